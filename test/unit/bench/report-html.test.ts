import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { embedJson, renderHtml } from '../../../bench/report-html.ts';
import type { BenchResult } from '../../../bench/result.ts';
import { benchResult, benchTarget } from '../../helpers/bench-result.ts';

test('HTML: self-contained, charts per operation, data embedded, text escaped', () => {
  const r = benchResult([benchTarget('A', 1), benchTarget('B', 2)]);
  const html = renderHtml(r);
  assert.ok(html.startsWith('<!doctype html>'));
  // Nothing is fetched from anywhere: no src/href attributes, no CSS url() or @import.
  assert.not.match(html, /\s(src|href)\s*=/i);
  assert.not.match(html, /url\(/i);
  assert.not.match(html, /@import/i);
  assert.not.match(html, /<link\b/i);
  assert.not.match(html, /<script(?![^>]*type="application\/json")/i, 'no executable script');
  // Charts: throughput, MB/s, and a latency chart per operation, for each target.
  assert.is((html.match(/<svg /g) ?? []).length, 2 * (2 + 2));
  assert.ok(html.includes('Throughput (ops/s) per operation'));
  assert.ok(html.includes('GET latency (ms) per second'));
  assert.ok(html.includes('PUT latency (ms) per second'));
  assert.ok(/<g class="series" data-series="GET">/.test(html));
  assert.ok(/<polyline [^>]*points="[\d.,\s]+"/.test(html));
  assert.ok(html.includes('class="warmup"'), 'the warm-up is shaded');
  // The embedded data is the whole result.
  const m = /<script type="application\/json" id="bench-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m);
  const data = JSON.parse(m[1] as string) as BenchResult;
  assert.equal(data, JSON.parse(JSON.stringify(r)));
  assert.is(data.targets[0]?.series.ops.GET?.length, 4);
  // Summary and comparison tables.
  assert.ok(html.includes('<th>p99 ms</th>'));
  assert.ok(html.includes('<h2>B / A</h2>'));
  // Scenario text is escaped, not markup.
  assert.ok(html.includes('&lt;b&gt;not html&lt;/b&gt;'));
  assert.ok(!html.includes('<b>not html</b>'));
});

test('embedJson cannot close the script element', () => {
  const text = embedJson({ s: '</script><!-- & \u2028' });
  assert.not.ok(text.includes('<'));
  assert.equal(JSON.parse(text), { s: '</script><!-- & \u2028' });
});

test.run();
