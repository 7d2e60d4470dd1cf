// The report as one self-contained HTML file: the data as embedded JSON, the page's script
// and style inline, nothing fetched (the icon is an empty data: URL so that the browser
// asks for no favicon).

import { PAGE_SCRIPT } from "./page-script.js";
import type { ReportData } from "./report-data.js";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 24px 48px; color: #1d232b; }
h1 { font-size: 22px; margin: 20px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d5dae0; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
#summary { color: #46505c; margin: 0; }
.scroll { overflow: auto; max-height: 80vh; border: 1px solid #e3e7eb; }
.legend-item { display: inline-flex; align-items: center; margin: 0 14px 4px 0; font-size: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; border: 1px solid #889; }
.op rect { stroke: #55606c; stroke-width: 1; cursor: default; }
.op:hover rect { stroke: #000; stroke-width: 2; }
.op-name { font: 11px ui-monospace, monospace; fill: #111; pointer-events: none; }
.op-kind { font: 10px system-ui, sans-serif; fill: #444; pointer-events: none; }
.edge { fill: none; stroke: #8a949e; stroke-width: 1; }
.arrow { fill: #8a949e; }
.axis text, .row-label, .row-note { font: 11px system-ui, sans-serif; fill: #46505c; }
.tick { stroke: #eef0f2; }
.idle { fill: #f3f4f6; }
.task.compute { fill: #4c8bd6; }
.task.comm { fill: #e0913a; }
.task.measured.compute { fill: #2f9e6e; }
.task.measured.comm { fill: #c8553d; }
.task:hover { stroke: #000; stroke-width: 1; }
.capacity { fill: #f3f4f6; stroke: #c5ccd3; }
.capacity-mark { stroke: #333; stroke-width: 2; }
.mem-0 { fill: #4c8bd6; background: #4c8bd6; }
.mem-1 { fill: #8fb8e8; background: #8fb8e8; }
.mem-2 { fill: #9b6fc7; background: #9b6fc7; }
.mem-3 { fill: #e0913a; background: #e0913a; }
.mem-4 { fill: #a9b1ba; background: #a9b1ba; }
.over-text { fill: #b3261e; font-weight: 600; }
.memory-row text { font: 11px system-ui, sans-serif; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #dde2e7; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f5f7f9; }
.missing { color: #7a4b00; background: #fff6e0; padding: 6px 10px; border-left: 3px solid #e0a200; }
.note { color: #46505c; }
.key { font-size: 12px; color: #46505c; }
#tooltip { position: fixed; z-index: 10; max-width: 520px; background: #fff; border: 1px solid #8a949e; box-shadow: 0 2px 8px rgba(0,0,0,.18); padding: 6px 9px; font-size: 12px; pointer-events: none; }
#tooltip strong { font-family: ui-monospace, monospace; }
`;

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JSON that can sit inside a <script> element: no `</script>`, no `<!--`, no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The page of `data`. */
export function reportHtml(data: ReportData): string {
  const title = escapeHtml(`par report: ${data.title}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="par report">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(data.title)}</h1>
<p id="summary"></p>
<ul id="notes"></ul>
</header>
<noscript><p class="missing">This report draws its sections with JavaScript; its data is in the page's #report-data element.</p></noscript>
<section id="graph">
<h2>Op graph, coloured by parallel configuration</h2>
<p class="key">Each box is an op; its colour is its configuration (degree per split dimension, @ the devices of its tasks). Hover an op for its dimensions and devices. Zoom
<select id="graph-zoom"><option value="0.25">25 %</option><option value="0.5">50 %</option><option value="1" selected>100 %</option></select></p>
<div id="graph-legend"></div>
<div id="graph-view" class="scroll"></div>
</section>
<section id="timeline">
<h2>Timeline per device</h2>
<p class="key">Predicted by the simulator: the upper lane is the device's queue (blue compute, orange communication the device does itself), the lower lane the link transfers it sends or receives; grey is idle. A measured lane (green compute, red communication) follows when a trace is given.</p>
<p id="timeline-measured" class="note"></p>
<p class="key"><label>Time scale <select id="timeline-scale"><option value="shared">shared by both lanes</option><option value="fitted">each lane fitted to its own iteration</option></select></label></p>
<div id="timeline-view" class="scroll"></div>
<div id="timeline-table"></div>
</section>
<section id="memory">
<h2>Memory per device</h2>
<p class="key">Predicted peak of one training iteration (src/cost/memory.ts) against the device's capacity (the black mark).</p>
<div id="memory-legend"></div>
<div id="memory-view"></div>
<div id="memory-table"></div>
</section>
<section id="comm">
<h2>Top communication edges</h2>
<div id="comm-view"></div>
</section>
<section id="comparison">
<h2>Compared with data parallelism</h2>
<div id="comparison-view"></div>
</section>
<div id="tooltip" role="tooltip" hidden></div>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
