import { formatRatio } from './compare.ts';
import { formatErrors, formatMs, formatRate } from './report-table.ts';
import type { BenchResult, TargetResult } from './result.ts';
import { OPS, type OpName } from './scenario.ts';
import { escapeXml, lineChartSvg } from './svg-chart.ts';
import type { SeriesBucket, SummaryKey } from './summary.ts';

/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script to run, nothing
 * fetched from anywhere) with the summary tables, throughput and latency over time per
 * operation, and the whole result embedded as JSON in
 * `<script type="application/json" id="bench-data">` for anyone who wants to re-plot it.
 */
const COLORS: Readonly<Record<OpName, string>> = { PUT: '#d62728', GET: '#1f77b4', HEAD: '#2ca02c', DELETE: '#9467bd', LIST: '#ff7f0e' };
const PCT_COLORS = { p50: '#1f77b4', p90: '#ff7f0e', p99: '#d62728' } as const;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1500px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f5f5f5; }
.meta { color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { background: #fff; border: 1px solid #e5e5e5; }
.chart-title { font-size: 13px; font-weight: 600; }
.tick, .legend, .label { font-size: 11px; fill: #444; }
.grid { stroke: #eee; } .axis { stroke: #888; } .mark { stroke: #999; stroke-dasharray: 4 3; }
.warmup { fill: #f3f3f3; }
pre { background: #f7f7f7; padding: 8px; overflow: auto; }
.warn { color: #a40; }
`;

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = headers.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

function summaryTable(t: TargetResult): string {
  const rows = (['PUT', 'GET', 'HEAD', 'DELETE', 'LIST', 'ALL'] as SummaryKey[]).flatMap((op) => {
    const s = t.summary.ops[op];
    if (!s) return [];
    const l = s.latencyMs;
    return [[op, s.ops.toLocaleString('en-US'), formatRate(s.opsPerSec), s.mbPerSec.toFixed(2), formatMs(l?.p50), formatMs(l?.p90), formatMs(l?.p99), formatMs(l?.max), formatErrors(s.errors, s.errorsByStatus)]];
  });
  return table(['op', 'ops', 'ops/s', 'MB/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors'], rows);
}

function targetCharts(t: TargetResult): string {
  const ops = OPS.filter((op) => t.series.ops[op] !== undefined);
  const shade = t.rounds.filter((r) => r.measureFrom > r.from).map((r) => [r.from, r.measureFrom] as const);
  const marks = t.rounds.slice(1).map((r) => r.from);
  const mid = (b: SeriesBucket): number => b.t + t.series.bucketSeconds / 2;
  const charts: string[] = [];
  const common = { xLabel: 'seconds (measured time; shaded = warm-up, dashed = next round)', shade, marks };
  charts.push(
    lineChartSvg({
      ...common,
      title: 'Throughput (ops/s) per operation',
      yLabel: 'ops/s',
      series: ops.map((op) => ({ name: op, color: COLORS[op], points: (t.series.ops[op] ?? []).map((b) => [mid(b), b.opsPerSec] as const) })),
    }),
  );
  const moving = ops.filter((op) => op !== 'HEAD' && op !== 'DELETE');
  if (moving.length > 0) {
    charts.push(
      lineChartSvg({
        ...common,
        title: 'Throughput (MB/s) per operation',
        yLabel: 'MB/s',
        series: moving.map((op) => ({ name: op, color: COLORS[op], points: (t.series.ops[op] ?? []).map((b) => [mid(b), b.mbPerSec] as const) })),
      }),
    );
  }
  for (const op of ops) {
    const buckets = t.series.ops[op] ?? [];
    charts.push(
      lineChartSvg({
        ...common,
        title: `${op} latency (ms) per second: p50, p90, p99`,
        yLabel: 'ms',
        series: (['p50', 'p90', 'p99'] as const).map((p) => ({ name: p, color: PCT_COLORS[p], points: buckets.map((b) => [mid(b), b[p]] as const) })),
      }),
    );
  }
  return `<div class="charts">\n${charts.join('\n')}\n</div>`;
}

/** JSON safe to embed in a `<script>` element (no `</script>` or `<!--` can appear). */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Renders the report for a result. */
export function renderHtml(result: BenchResult): string {
  const name = String(result.scenario['name']);
  const sections: string[] = [];
  for (const t of result.targets) {
    const warn = t.client.eventLoopUtilization > 0.9 ? `<p class="warn">The client's event loop was busy ${(t.client.eventLoopUtilization * 100).toFixed(0)}% of the time: the client may be the bottleneck.</p>` : '';
    const skipped = Object.entries(t.skipped);
    sections.push(
      `<h2>${escapeXml(t.label)}: ${escapeXml(t.storageUrl)}</h2>`,
      `<p class="meta">auth ${escapeXml(t.authUrl)}; ${t.summary.measuredSeconds.toFixed(1)} s measured over ${t.rounds.length} round(s); client CPU ${t.client.cpuPercent.toFixed(0)}% of a core, event loop ${(t.client.eventLoopUtilization * 100).toFixed(0)}% busy${skipped.length ? `; skipped for want of objects: ${escapeXml(skipped.map(([op, n]) => `${op} ${n}`).join(', '))}` : ''}</p>`,
      warn,
      summaryTable(t),
      targetCharts(t),
    );
  }
  if (result.comparison) {
    const rows = result.comparison.map((r) => [r.op, r.a ? formatRate(r.a.opsPerSec) : '-', r.b ? formatRate(r.b.opsPerSec) : '-', formatRatio(r.opsPerSecRatio), formatRatio(r.mbPerSecRatio), formatRatio(r.p50Ratio), formatRatio(r.p99Ratio)]);
    sections.push('<h2>B / A</h2>', '<p class="meta">ops/s and MB/s above 1x: B is faster; latency above 1x: B is slower. Rounds alternated A, B, A, B.</p>', table(['op', 'A ops/s', 'B ops/s', 'ops/s B/A', 'MB/s B/A', 'p50 B/A', 'p99 B/A'], rows));
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(`swiftlet bench: ${name}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeXml(`swiftlet bench: ${name}`)}</h1>
<p class="meta">${escapeXml(`${result.startedAt} to ${result.finishedAt}; node ${result.environment.node} on ${result.environment.hostname} (${result.environment.cpus} CPUs); latency is send to last byte, percentiles exact (nearest rank); MB = 10^6 bytes`)}</p>
${sections.join('\n')}
<h2>Scenario</h2>
<pre>${escapeXml(JSON.stringify(result.scenario, null, 2))}</pre>
<script type="application/json" id="bench-data">${embedJson(result)}</script>
</body>
</html>
`;
}
