// The report as one HTML page: the verdict, the picture, its legend and the text
// evidence. No script, no external resource: it opens from a ticket's attachment.
import type { VcpuState } from "./analyse.js";
import type { Report } from "./report.js";
import { CPU_COLOURS, renderSvg, STATE_COLOURS, STATE_WORDS } from "./render-svg.js";
import { renderText } from "./render-text.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderHtml(r: Report): string {
  const swatch = (colour: string, words: string) => `<li><span class="swatch" style="background:${colour}"></span>${esc(words)}</li>`;
  const legend = [
    ...(Object.keys(STATE_COLOURS) as VcpuState[]).map((s) => swatch(STATE_COLOURS[s], `vCPU lane: ${STATE_WORDS[s]}`)),
    swatch(CPU_COLOURS.vcpu, "host CPU lane: a vCPU thread ran"),
    swatch(CPU_COLOURS.other, "host CPU lane: another task ran (hover for its name and priority)"),
    swatch(CPU_COLOURS.idle, "host CPU lane: idle"),
    swatch(CPU_COLOURS.interrupt, "host CPU lane, thin strip: an interrupt or soft interrupt"),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>qtrip report: ${esc(r.meta.case ?? r.source)}</title>
<style>
body { font-family: sans-serif; margin: 1em; }
.verdict { font-size: 1.1em; font-weight: bold; }
.picture { overflow-x: auto; }
.picture svg { max-width: 100%; height: auto; }
.legend { list-style: none; padding: 0; columns: 2; }
.swatch { display: inline-block; width: 1em; height: 0.8em; margin-right: 0.5em; border: 1px solid #999; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; }
</style>
</head>
<body>
<p class="verdict" id="verdict">${esc(r.verdict.line)}</p>
<div class="picture" id="picture">
${renderSvg(r)}
</div>
<p>Time runs left to right and ends at the trip (red line); the dashed box is the window the report reads; the purple line is where the rule's threshold began. Zoom with the browser; hover a bar for its state, task and length.</p>
<ul class="legend" id="legend">
${legend.join("\n")}
</ul>
<pre id="evidence">${esc(renderText(r))}</pre>
</body>
</html>
`;
}
