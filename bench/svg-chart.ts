/**
 * Line charts as inline SVG strings, for the self-contained HTML report: no script, no
 * external resource, readable in any browser and in a saved file years later.
 */
export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  /** `[x, y]`; a null y breaks the line. */
  readonly points: readonly (readonly [number, number | null])[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** x ranges to shade (warm-up), and x positions to mark with a dashed line (round starts). */
  readonly shade?: readonly (readonly [number, number])[];
  readonly marks?: readonly number[];
  readonly width?: number;
  readonly height?: number;
}

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The smallest 1, 2 or 5 times a power of ten that is >= `value` (for axis tops and steps). */
export function niceCeil(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value * (1 - 1e-12)) return m * power;
  return 10 * power;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

/** Renders a chart to an `<svg>` element. */
export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 260;
  const pad = { left: 64, right: 16, top: 44, bottom: 40 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  let xMax = 1;
  let yMaxData = 0;
  for (const s of chart.series) {
    for (const [x, y] of s.points) {
      xMax = Math.max(xMax, x);
      if (y !== null && Number.isFinite(y)) yMaxData = Math.max(yMaxData, y);
    }
  }
  const yStep = niceCeil(yMaxData / 5);
  const yMax = yStep * Math.max(1, Math.ceil(yMaxData / yStep));
  const xStep = niceCeil(xMax / 8);
  const sx = (x: number): number => pad.left + (x / xMax) * plotW;
  const sy = (y: number): number => pad.top + plotH - (y / yMax) * plotH;
  const f = (n: number): string => n.toFixed(1);
  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(chart.title)}">`);
  parts.push(`<text x="${pad.left}" y="18" class="chart-title">${escapeXml(chart.title)}</text>`);
  for (const [x0, x1] of chart.shade ?? []) {
    parts.push(`<rect class="warmup" x="${f(sx(Math.max(0, x0)))}" y="${pad.top}" width="${f(Math.max(0, sx(Math.min(xMax, x1)) - sx(Math.max(0, x0))))}" height="${plotH}"><title>warm-up (not counted)</title></rect>`);
  }
  for (let y = 0; y <= yMax + yStep / 2; y += yStep) {
    parts.push(`<line class="grid" x1="${pad.left}" x2="${pad.left + plotW}" y1="${f(sy(y))}" y2="${f(sy(y))}"/>`);
    parts.push(`<text class="tick" x="${pad.left - 6}" y="${f(sy(y) + 4)}" text-anchor="end">${tickLabel(y)}</text>`);
  }
  for (let x = 0; x <= xMax + xStep / 2; x += xStep) {
    parts.push(`<text class="tick" x="${f(sx(x))}" y="${pad.top + plotH + 16}" text-anchor="middle">${tickLabel(x)}</text>`);
  }
  for (const x of chart.marks ?? []) parts.push(`<line class="mark" x1="${f(sx(x))}" x2="${f(sx(x))}" y1="${pad.top}" y2="${pad.top + plotH}"/>`);
  parts.push(`<line class="axis" x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${pad.top + plotH}"/>`);
  parts.push(`<line class="axis" x1="${pad.left}" x2="${pad.left + plotW}" y1="${pad.top + plotH}" y2="${pad.top + plotH}"/>`);
  parts.push(`<text class="label" x="${pad.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  parts.push(`<text class="label" transform="translate(14 ${pad.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`);
  chart.series.forEach((s, i) => {
    // Split at nulls so a second with no data is a gap, not a line to zero.
    const runs: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        if ((runs.at(-1) as string[]).length > 0) runs.push([]);
      } else (runs.at(-1) as string[]).push(`${f(sx(x))},${f(sy(y))}`);
    }
    parts.push(`<g class="series" data-series="${escapeXml(s.name)}"><title>${escapeXml(s.name)}</title>`);
    for (const run of runs) {
      if (run.length === 1) parts.push(`<circle cx="${run[0]?.split(',')[0]}" cy="${run[0]?.split(',')[1]}" r="2" fill="${s.color}"/>`);
      else if (run.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${run.join(' ')}"/>`);
    }
    parts.push('</g>');
    const lx = pad.left + plotW - 110 * (chart.series.length - i);
    parts.push(`<rect x="${lx}" y="${pad.top - 20}" width="10" height="10" fill="${s.color}"/><text class="legend" x="${lx + 14}" y="${pad.top - 11}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
