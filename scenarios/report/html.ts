// report.html: one self-contained page a person opens from a CI artifact. The words (verdicts,
// claims with ✓/✖, findings) are plain HTML; each scenario's plot of the sequence against time,
// with a marker for every fault, suspend, resume, savepoint, restore and checkpoint, is drawn by
// an inline script from data inlined in the page. Its Content-Security-Policy forbids every
// fetch, so the page provably needs no network.
import type { ScenarioOutcome } from '../run.ts';
import type { ReportMeta } from './meta.ts';
import type { PlotSeries } from './plot-data.ts';
import { PLOT_SCRIPT } from './plot-script.ts';

/** One scenario as the page shows it. */
export interface HtmlScenario {
  outcome: ScenarioOutcome;
  series: PlotSeries;
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/** The marker kinds, their colour and what the legend calls them. */
const MARKERS: Array<[string, string, string]> = [
  ['fault', '#d62728', 'fault'],
  ['suspend', '#ff7f0e', 'suspend'],
  ['resume', '#2ca02c', 'resume'],
  ['savepoint', '#9467bd', 'savepoint'],
  ['restore', '#17becf', 'restore'],
  ['expect-reset', '#8c564b', 'declared reset'],
  ['expect-rewind', '#8c564b', 'declared rewind'],
  ['checkpoint', '#7f7f7f', 'checkpoint (tick under the axis)'],
];

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end the <script> element it sits in, nor start a comment there. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; padding: 0 12px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-top: 1px solid #ddd; padding-top: 16px; }
.pass { color: #1a7f37; } .fail { color: #cf222e; }
table.meta td { padding: 1px 12px 1px 0; vertical-align: top; }
ul.claims { list-style: none; padding-left: 0; } ul.claims li { margin: 4px 0; }
.detail { color: #555; } .error { background: #fff0f0; border-left: 4px solid #cf222e; padding: 8px 12px; white-space: pre-wrap; }
.counts span { margin-right: 14px; } code { font-size: 12px; }
svg.plot { width: 100%; height: auto; background: #fbfbfb; border: 1px solid #e4e4e4; }
svg .axes line { stroke: #444; } svg .axes line.grid { stroke: #e6e6e6; }
svg text { font: 11px system-ui, sans-serif; fill: #444; } svg text.axis-label { font-size: 12px; }
svg polyline.series { fill: none; stroke: #1f77b4; stroke-width: 1.4; } svg .dots circle { fill: #1f77b4; }
svg .marker line { stroke-width: 1.5; stroke-dasharray: 5 3; }
.legend span { margin-right: 14px; white-space: nowrap; } .legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
${MARKERS.map(([kind, colour]) => `svg .marker-${kind} line { stroke: ${colour}; } svg .marker-${kind} path { fill: ${colour}; } svg .marker-${kind} text { fill: ${colour}; }`).join('\n')}
`;

function claimsHtml(o: ScenarioOutcome): string {
  if (!o.claims.length) return '<p class="detail">No claim was judged: nothing was recorded.</p>';
  const items = o.claims.map(
    (c) => `<li class="claim ${c.ok ? 'pass' : 'fail'}">${c.ok ? '✓' : '✖'} ${esc(c.title)}<br><span class="detail">${esc(c.detail)}</span></li>`,
  );
  return `<ul class="claims">${items.join('')}</ul>`;
}

function verdictHtml(o: ScenarioOutcome): string {
  const v = o.verdict;
  if (!v) return '';
  const c = v.counts;
  const counts = [
    ['records', c.records],
    ['lost', c.lost],
    ['duplicates', c.duplicates],
    ['replayed', c.replayed],
    ['resets', c.resets],
    ['malformed', c.malformed],
    ['unexpected', c.unexpected],
  ]
    .map(([k, n]) => `<span>${k}: <b>${n}</b></span>`)
    .join('');
  const findings = v.findings.filter((f) => f.fail).map((f) => `<li class="fail">${esc(f.message)}</li>`);
  return [
    `<p>Verdict: <b class="${v.valid === true ? 'pass' : 'fail'}">${esc(String(v.valid))}</b>: ${esc(v.summary)}</p>`,
    `<p class="counts">${counts}</p>`,
    findings.length ? `<ul class="findings">${findings.join('')}</ul>` : '',
  ].join('\n');
}

function scenarioHtml({ outcome: o, series }: HtmlScenario, i: number): string {
  const sampled = series.shown < series.records ? ` (${series.shown} of ${series.records} records plotted: the lowest and highest per time slice)` : '';
  return [
    `<section class="scenario" id="scenario-${esc(o.scenario)}">`,
    `<h2 class="${o.ok ? 'pass' : 'fail'}">${o.ok ? '✓' : '✖'} ${esc(o.scenario)} <small>(${(o.durationMs / 1000).toFixed(1)} s)</small></h2>`,
    `<p>${esc(o.summary)}</p>`,
    o.error ? `<div class="error">could not be carried out: ${esc(o.error.message)}${o.error.hint ? `\nhint: ${esc(o.error.hint)}` : ''}</div>` : '',
    claimsHtml(o),
    verdictHtml(o),
    `<figure id="plot-${i}"><figcaption>Sequence number against time, ${series.records} records${sampled}${series.markersDropped ? `, ${series.markersDropped} markers left out` : ''}. History: <code>${esc(o.historyFile)}</code></figcaption></figure>`,
    '</section>',
  ].join('\n');
}

export function reportHtml(scenarios: HtmlScenario[], meta: ReportMeta): string {
  const passed = scenarios.filter((s) => s.outcome.ok).length;
  const allOk = !meta.interrupted && passed === scenarios.length;
  const rows = [
    ['run', meta.runId],
    ['started', meta.startedAt],
    ['finished', meta.finishedAt],
    ...Object.entries(meta.versions),
    ...(meta.artifacts ? [['diagnostics', meta.artifacts]] : []),
  ];
  const data = { scenarios: scenarios.map((s) => ({ scenario: s.outcome.scenario, series: s.series })) };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sandbox test ${esc(meta.runId)}: ${passed} of ${scenarios.length} passed</title>
<style>${STYLE}</style>
</head>
<body>
<h1 class="${allOk ? 'pass' : 'fail'}">${allOk ? '✓' : '✖'} sandbox test: ${passed} of ${scenarios.length} scenarios passed${meta.interrupted ? ' (interrupted)' : ''}</h1>
<table class="meta">${rows.map(([k, v]) => `<tr><td>${esc(k!)}</td><td><code>${esc(v!)}</code></td></tr>`).join('')}</table>
<p>Also in this folder: <a href="junit.xml">junit.xml</a>, <a href="report.json">report.json</a>.</p>
<p class="legend">${MARKERS.map(([, colour, name]) => `<span><i style="background:${colour}"></i>${esc(name)}</span>`).join('')}<span><i style="background:#1f77b4"></i>sequence number</span></p>
${scenarios.map(scenarioHtml).join('\n')}
<script type="application/json" id="report-data">${inlineJson(data)}</script>
<script>${PLOT_SCRIPT}</script>
</body>
</html>
`;
}
