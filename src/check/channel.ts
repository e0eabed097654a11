// `channel port 0x3ff value 0x1f`: where the guest writes, within bounds, never a UART register.
import { error } from "../diagnostics/diagnostic.js";
import type * as ast from "../syntax/ast.js";
import type { Channel } from "./checked.js";
import type { CheckContext } from "./context.js";

export function checkChannel(ctx: CheckContext, decl: ast.ChannelDecl): Channel | undefined {
  const port = channelNumber(ctx, decl.port, 0xffffn, "port");
  const value = channelNumber(ctx, decl.value, 0xffn, "value");
  if (port === undefined || value === undefined) return undefined;
  if (port >= 0x3f8 && port <= 0x3fe) {
    ctx.report(
      error("E0105", decl.port.span, `port 0x${port.toString(16)} is a register of the guest's COM1 UART: writing it would disturb the serial port`, {
        suggestion: "use the scratch register, 0x3ff (the default)",
      }),
    );
    return undefined;
  }
  return { port, value };
}

function channelNumber(ctx: CheckContext, value: ast.Value, max: bigint, what: string): number | undefined {
  if (value.kind !== "Int") return undefined; // Invalid: already reported; the grammar takes only numbers here.
  if (value.value > max) {
    ctx.report(error("E0104", value.span, `channel ${what} ${value.text} is out of range: 0 to 0x${max.toString(16)}`));
    return undefined;
  }
  return Number(value.value);
}
