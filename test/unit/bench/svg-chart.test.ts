import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeXml, lineChartSvg, niceCeil } from '../../../bench/svg-chart.ts';

test('niceCeil picks 1, 2 or 5 times a power of ten', () => {
  assert.is(niceCeil(0), 1);
  assert.is(niceCeil(0.3), 0.5);
  assert.is(niceCeil(1), 1);
  assert.is(niceCeil(1.1), 2);
  assert.is(niceCeil(3), 5);
  assert.is(niceCeil(7), 10);
  assert.is(niceCeil(420), 500);
  assert.is(niceCeil(Number.NaN), 1);
});

test('escapeXml', () => {
  assert.is(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('a chart: one polyline per run of points, nulls are gaps, scaled into the plot', () => {
  const svg = lineChartSvg({
    title: 'T <1>',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      { name: 'GET', color: '#123456', points: [[0, 0], [1, 10], [2, null], [3, 5], [4, 5]] },
      { name: 'PUT', color: '#abcdef', points: [[2, 1]] },
    ],
    shade: [[0, 1]],
    marks: [2],
    width: 500,
    height: 200,
  });
  assert.ok(svg.startsWith('<svg class="chart" viewBox="0 0 500 200"'));
  assert.ok(svg.includes('T &lt;1&gt;'));
  const getGroup = /<g class="series" data-series="GET">([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
  assert.is((getGroup.match(/<polyline/g) ?? []).length, 2, 'the null splits the GET line in two');
  // x runs 0..4 over 64..484, y 0..10 over 160..44 (the y axis top is a nice 10).
  assert.ok(getGroup.includes('points="64.0,160.0 169.0,44.0"'), getGroup);
  assert.ok(getGroup.includes('points="379.0,102.0 484.0,102.0"'), getGroup);
  assert.ok(/<g class="series" data-series="PUT">[\s\S]*?<circle /.test(svg), 'a lone point is a dot');
  assert.ok(svg.includes('class="warmup"'));
  assert.ok(svg.includes('class="mark"'));
});

test.run();
