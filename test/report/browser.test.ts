// The report's picture in a real browser (Debian's chromium, headless): the HTML
// page renders, and the lanes and marks are where the data says. A script added
// to a copy of the page measures each shape (getBBox, and what the browser hits
// at the point where a state must be drawn) and leaves the figures in the DOM
// that --dump-dom prints.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseTrace } from "../../src/report/parse.js";
import { renderHtml } from "../../src/report/render-html.js";
import { LAYOUT, xOf } from "../../src/report/render-svg.js";
import { buildReport } from "../../src/report/report.js";
import { SYNTHETIC, SYNTHETIC_META } from "./synthetic.js";

const CHROMIUM = "/usr/bin/chromium";
const work = mkdtempSync(join(tmpdir(), "qtrip-report-browser-"));

const MEASURE = `<script>
const svg = document.querySelector("#picture svg");
const box = svg.getBoundingClientRect();
const scale = box.width / svg.viewBox.baseVal.width;
const shape = (el) => { const b = el.getBBox(); return { x: b.x, y: b.y, width: b.width, height: b.height }; };
// What the browser draws on top at a point of the picture, in the picture's own units.
const hit = (x, y) => { const el = document.elementFromPoint(box.left + x * scale, box.top + y * scale); return el ? { tag: el.tagName, state: el.dataset.state ?? null, lane: el.dataset.lane ?? null, tid: el.dataset.tid ?? null } : null; };
const measured = {
  rendered: { width: box.width, height: box.height },
  segments: [...svg.querySelectorAll("rect.seg")].map((el) => ({ lane: el.dataset.lane, state: el.dataset.state ?? null, tid: el.dataset.tid ?? null, ...shape(el) })),
  marks: Object.fromEntries([...svg.querySelectorAll("g.mark")].map((g) => [g.id, shape(g.querySelector("line"))])),
  lanes: [...svg.querySelectorAll("text.lane-label")].map((t) => ({ lane: t.dataset.lane, text: t.textContent, ...shape(t) })),
  hits: (window.PROBES || []).map(([x, y]) => hit(x, y)),
};
const pre = document.createElement("pre");
pre.id = "measured";
pre.textContent = JSON.stringify(measured);
document.body.appendChild(pre);
</script>`;

function chromium(args: string[]): string {
  return execFileSync(CHROMIUM, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1300,900", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
}

describe.skipIf(!existsSync(CHROMIUM))("the report's picture in headless chromium", () => {
  const report = buildReport({ traceFile: "trace.txt", text: SYNTHETIC, trace: parseTrace(SYNTHETIC), meta: SYNTHETIC_META });
  const laneY = (i: number) => LAYOUT.top + i * (LAYOUT.lane + LAYOUT.gap);
  // Middle of the runnable stretch on the vCPU's lane, and of the kworker on CPU 1's lane.
  const probes = [
    [xOf(report, 100.185e9), laneY(0) + LAYOUT.lane / 2],
    [xOf(report, 100.185e9), laneY(1) + 5],
    [xOf(report, 100.09e9), laneY(0) + LAYOUT.lane / 2],
  ];
  const page = join(work, "report.html");
  writeFileSync(page, renderHtml(report).replace("</body>", `<script>window.PROBES = ${JSON.stringify(probes)};</script>\n${MEASURE}\n</body>`));
  const dom = chromium(["--dump-dom", `file://${page}`]);
  const measured = JSON.parse(/<pre id="measured">(.*?)<\/pre>/s.exec(dom)?.[1]?.replace(/&quot;/g, '"').replace(/&amp;/g, "&") ?? "null");

  test("the page renders its picture", () => {
    expect(measured).not.toBeNull();
    expect(measured.rendered.width).toBeGreaterThan(600);
    expect(measured.rendered.height).toBeGreaterThan(100);
    expect(measured.lanes.map((l: { text: string }) => l.text)).toEqual(["vCPU 0 (tid 1000)", "host CPU 1"]);
  });

  test("each state is drawn where the analysis puts it, on its lane", () => {
    const v = report.vcpus[0]!;
    const drawn = measured.segments.filter((s: { lane: string }) => s.lane === "vcpu-1000");
    expect(drawn.map((s: { state: string }) => s.state)).toEqual(v.segments.map((s) => s.state));
    v.segments.forEach((s, i) => {
      expect(drawn[i].x).toBeCloseTo(xOf(report, s.start), 1);
      expect(drawn[i].x + drawn[i].width).toBeCloseTo(xOf(report, s.end), 1);
      expect(drawn[i].y).toBe(laneY(0));
    });
  });

  test("the trip and the threshold are marked at their times", () => {
    expect(measured.marks.trip.x).toBeCloseTo(xOf(report, report.window.end), 1);
    expect(measured.marks.threshold.x).toBeCloseTo(xOf(report, report.window.end - 200e6), 1);
    expect(measured.marks.trip.x).toBeCloseTo(LAYOUT.width - LAYOUT.right, 1);
  });

  test("what the browser shows at a time and lane is the state the data has there", () => {
    expect(measured.hits).toEqual([
      { tag: "rect", state: "runnable", lane: "vcpu-1000", tid: null },
      { tag: "rect", state: null, lane: "cpu-1", tid: "77" },
      { tag: "rect", state: "guest", lane: "vcpu-1000", tid: null },
    ]);
  });

  // For a person to look at: QTRIP_REPORT_SCREENSHOT=FILE.png keeps the page's screenshot.
  test.runIf(process.env.QTRIP_REPORT_SCREENSHOT)("a screenshot of the page", () => {
    const png = process.env.QTRIP_REPORT_SCREENSHOT!;
    writeFileSync(join(work, "plain.html"), renderHtml(report));
    chromium([`--screenshot=${png}`, `file://${join(work, "plain.html")}`]);
    expect(existsSync(png)).toBe(true);
  });
});
