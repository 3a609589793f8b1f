import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatErrors, formatMs, formatTable, renderReport } from '../../../bench/report-table.ts';
import { benchResult, benchTarget } from '../../helpers/bench-result.ts';

test('formatTable aligns columns', () => {
  const lines = formatTable(['op', 'ops/s'], [['GET', '1,234'], ['DELETE', '5.0']]);
  assert.equal(lines, ['op      ops/s', '------  -----', 'GET     1,234', 'DELETE    5.0']);
});

test('number and error formatting', () => {
  assert.is(formatMs(1.234), '1.23');
  assert.is(formatMs(12.34), '12.3');
  assert.is(formatMs(1234.5), '1,235');
  assert.is(formatMs(null), '-');
  assert.is(formatErrors(0, {}), '0');
  assert.is(formatErrors(3, { ECONNRESET: 1, '503': 2 }), '3 (503: 2, ECONNRESET: 1)');
});

test('the table has a row per operation with rates, percentiles and errors by status', () => {
  const text = renderReport(benchResult([benchTarget('target', 1)]));
  const lines = text.split('\n');
  assert.ok(lines[0]?.startsWith('scenario small: concurrency 8'));
  const header = lines.find((l) => l.startsWith('op '));
  assert.ok(header);
  for (const col of ['ops/s', 'MB/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors']) assert.ok(header.includes(col), col);
  const get = lines.find((l) => l.startsWith('GET '));
  const put = lines.find((l) => l.startsWith('PUT '));
  const all = lines.find((l) => l.startsWith('ALL '));
  assert.ok(get && put && all);
  // 300 GETs over 3 measured seconds; latencies 1..10 ms, 30 of each.
  assert.equal(get.split(/\s{2,}/), ['GET', '300', '100', '0.41', '5.00', '9.00', '10.0', '10.0', '1 (ECONNRESET: 1)']);
  assert.ok(put.endsWith('2 (503: 2)'), put);
  assert.ok(all.endsWith('3 (503: 2, ECONNRESET: 1)'), all);
  assert.ok(!text.includes('B / A'));
});

test('with two targets the report ends with the B / A table', () => {
  const text = renderReport(benchResult([benchTarget('A', 1), benchTarget('B', 2)]));
  assert.ok(text.includes('A: http://a.example:8080/v1/AUTH_test'));
  assert.ok(text.includes('B: http://b.example:8080/v1/AUTH_test'));
  const lines = text.split('\n');
  const get = lines.filter((l) => l.startsWith('GET ')).at(-1);
  assert.ok(get);
  const cells = get.split(/\s{2,}/);
  // Same counts in the same time: ops ratio 1; latencies doubled.
  assert.equal(cells.slice(0, 4), ['GET', '100', '100', '1.00x']);
  assert.is(cells[7], '2.00x');
});

test.run();
