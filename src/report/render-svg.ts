// The report as one self-contained SVG: a lane per vCPU thread (its states) and
// per host CPU it used (who ran there), the window and the trip marked. The
// viewBox lets a browser zoom it; every shape carries its times as data-*
// attributes and a <title>, so a test (or a curious engineer) can read it back.
import type { VcpuState } from "./analyse.js";
import type { Ns } from "./events.js";
import type { Report } from "./report.js";
import { ms, priority, vcpuName } from "./verdict.js";

export const STATE_COLOURS: Record<VcpuState, string> = {
  guest: "#2e7d32",
  exit: "#f9a825",
  runnable: "#d32f2f",
  asleep: "#1565c0",
  idle: "#bbdefb",
  stopped: "#6a1b9a",
  unknown: "#e0e0e0",
};
export const CPU_COLOURS = { vcpu: "#26a69a", other: "#424242", idle: "#f5f5f5", interrupt: "#ff6f00" } as const;

export const STATE_WORDS: Record<VcpuState, string> = {
  guest: "running guest code",
  exit: "in the host for an exit",
  runnable: "runnable, not running",
  asleep: "asleep in the host",
  idle: "halted by the guest",
  stopped: "stopped",
  unknown: "not in the buffer",
};

/** The layout, exported so that tests can compute where a time must be drawn. */
export const LAYOUT = { width: 1200, left: 190, right: 20, top: 56, lane: 22, gap: 10 } as const;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The x of time t. */
export function xOf(r: Report, t: Ns): number {
  const span = LAYOUT.width - LAYOUT.left - LAYOUT.right;
  return LAYOUT.left + ((t - r.window.start) / r.window.ns) * span;
}

interface Bar {
  start: Ns;
  end: Ns;
  fill: string;
  title: string;
  data: string;
}

/** Bars in time order; ones narrower than half a pixel join the one before, so a 64 MB trace stays a light picture. */
function coalesce(r: Report, bars: Bar[]): Bar[] {
  const out: Bar[] = [];
  const halfPixel = r.window.ns / (2 * (LAYOUT.width - LAYOUT.left - LAYOUT.right));
  for (const b of bars) {
    const prev = out[out.length - 1];
    if (prev && (b.end - b.start < halfPixel || (prev.fill === b.fill && prev.title === b.title)) && b.start - prev.end < halfPixel) prev.end = b.end;
    else out.push({ ...b });
  }
  return out;
}

function rects(r: Report, lane: string, y: number, height: number, bars: Bar[]): string[] {
  return coalesce(r, bars).map((b) => {
    const x = xOf(r, b.start);
    const w = Math.max(0.3, xOf(r, b.end) - x);
    return `<rect class="seg" data-lane="${lane}" ${b.data} data-start="${b.start - r.window.end}" data-end="${b.end - r.window.end}" x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${height}" fill="${b.fill}"><title>${esc(b.title)}</title></rect>`;
  });
}

/** Tick marks every 1, 2 or 5 × 10^k ms, counted back from the trip. */
function ticks(r: Report, bottom: number): string[] {
  const target = r.window.ns / 8;
  const step = [1, 2, 5].map((m) => m * 10 ** Math.floor(Math.log10(target / 1e6))).map((x) => x * 1e6).find((x) => x >= target / 2.5) ?? target;
  const out: string[] = [];
  for (let back = 0; back <= r.window.ns; back += step) {
    const x = xOf(r, r.window.end - back).toFixed(2);
    out.push(`<line x1="${x}" x2="${x}" y1="${LAYOUT.top - 6}" y2="${bottom}" stroke="#ccc" stroke-width="0.5"/>`);
    out.push(`<text x="${x}" y="${LAYOUT.top - 10}" font-size="10" text-anchor="middle" fill="#555">${back ? `-${Math.round(back / 1e6)} ms` : "trip"}</text>`);
  }
  return out;
}

function legend(y: number): string[] {
  const items: [string, string][] = [
    ...(Object.keys(STATE_COLOURS) as VcpuState[]).map((s): [string, string] => [STATE_COLOURS[s], STATE_WORDS[s]]),
    [CPU_COLOURS.vcpu, "CPU: a vCPU thread"],
    [CPU_COLOURS.other, "CPU: another task"],
    [CPU_COLOURS.interrupt, "CPU: irq / softirq"],
  ];
  return items.map(([fill, word], i) => {
    const x = 10 + (i % 5) * 236;
    const row = y + Math.floor(i / 5) * 16;
    return `<g class="legend"><rect x="${x}" y="${row}" width="12" height="10" fill="${fill}" stroke="#999" stroke-width="0.5"/><text x="${x + 16}" y="${row + 9}" font-size="11">${esc(word)}</text></g>`;
  });
}

/** The verdict in at most two lines of 135 characters (what 12-pixel bold text fits in the width, seen in chromium), broken at a space. */
function titleLines(line: string): string[] {
  const fit = 135;
  if (line.length <= fit) return [line];
  const cut = line.lastIndexOf(" ", fit);
  const rest = line.slice(cut + 1);
  return [line.slice(0, cut), rest.length > fit ? `${rest.slice(0, fit - 1)}…` : rest];
}

export function renderSvg(r: Report): string {
  const body: string[] = [];
  let y = LAYOUT.top;
  const label = (text: string, id: string) => body.push(`<text class="lane-label" data-lane="${id}" x="${LAYOUT.left - 8}" y="${y + LAYOUT.lane / 2 + 4}" font-size="12" text-anchor="end">${esc(text)}</text>`);
  const vcpuTids = new Set(r.vcpus.map((v) => v.tid));
  for (const v of r.vcpus) {
    const id = `vcpu-${v.tid}`;
    label(vcpuName(v), id);
    const bars = v.segments.map((s) => ({
      start: s.start,
      end: s.end,
      fill: STATE_COLOURS[s.state],
      title: `${STATE_WORDS[s.state]}${s.label ? ` (${s.label})` : ""}${s.cpu !== undefined ? ` on CPU ${s.cpu}` : ""}: ${ms(s.end - s.start)}`,
      data: `data-state="${s.state}"`,
    }));
    body.push(`<g class="lane" id="lane-${id}">`, ...rects(r, id, y, LAYOUT.lane, bars), "</g>");
    y += LAYOUT.lane + LAYOUT.gap;
  }
  for (const c of r.cpus) {
    const id = `cpu-${c.cpu}`;
    label(`host CPU ${c.cpu}`, id);
    const bars = c.tasks.map((t) => ({
      start: t.start,
      end: t.end,
      fill: t.tid === 0 ? CPU_COLOURS.idle : vcpuTids.has(t.tid) ? CPU_COLOURS.vcpu : CPU_COLOURS.other,
      title: `${t.comm} (tid ${t.tid}, ${priority(t.prio)}): ${ms(t.end - t.start)}`,
      data: `data-tid="${t.tid}"`,
    }));
    const irqs = c.interrupts.map((i) => ({ start: i.start, end: i.end, fill: CPU_COLOURS.interrupt, title: `${i.kind} ${i.name}: ${ms(i.end - i.start)}`, data: `data-kind="${i.kind}"` }));
    body.push(`<g class="lane" id="lane-${id}">`, ...rects(r, id, y, LAYOUT.lane - 5, bars), ...rects(r, `${id}-irq`, y + LAYOUT.lane - 4, 4, irqs), "</g>");
    y += LAYOUT.lane + LAYOUT.gap;
  }
  const bottom = y - LAYOUT.gap + 4;
  const mark = (id: string, t: Ns, colour: string, text: string) => {
    const x = xOf(r, t).toFixed(2);
    body.push(`<g class="mark" id="${id}"><line x1="${x}" x2="${x}" y1="${LAYOUT.top - 22}" y2="${bottom}" stroke="${colour}" stroke-width="2"/><text x="${x}" y="${bottom + 12}" font-size="10" text-anchor="middle" fill="${colour}">${esc(text)}</text></g>`);
  };
  if (r.meta.thresholdNs && r.meta.thresholdNs <= r.window.ns) mark("threshold", r.window.end - r.meta.thresholdNs, "#7b1fa2", `threshold ${ms(r.meta.thresholdNs)}`);
  if (r.buffer.wrapped) mark("buffer-start", r.buffer.first, "#9e9e9e", "buffer starts");
  mark("trip", r.window.end, "#b71c1c", "trip");
  const legendY = bottom + 26;
  const height = legendY + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${LAYOUT.width} ${height}" width="${LAYOUT.width}" height="${height}" font-family="sans-serif" data-window-start="${r.window.start}" data-window-end="${r.window.end}">`,
    `<title>${esc(r.verdict.line)}</title>`,
    `<rect x="0" y="0" width="${LAYOUT.width}" height="${height}" fill="#fff"/>`,
    ...titleLines(r.verdict.line).map((line, i) => `<text class="verdict" x="10" y="${16 + 14 * i}" font-size="12" font-weight="bold">${esc(line)}</text>`),
    ...ticks(r, bottom),
    `<rect id="window" x="${LAYOUT.left}" y="${LAYOUT.top - 4}" width="${(xOf(r, r.window.end) - LAYOUT.left).toFixed(2)}" height="${bottom - LAYOUT.top + 4}" fill="none" stroke="#888" stroke-dasharray="4 3"/>`,
    ...body,
    ...legend(legendY),
    "</svg>",
  ].join("\n");
}
