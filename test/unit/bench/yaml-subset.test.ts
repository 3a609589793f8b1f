import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYamlSubset, YamlSubsetError } from '../../../bench/yaml-subset.ts';

test('a scenario-shaped document', () => {
  const doc = parseYamlSubset(`---
# a comment
name: mixed   # trailing comment
description: "70% GET, with # inside quotes"
sizes:
  - size: 4KiB
    weight: 50
  - { min: 1MiB, max: 8MiB, weight: 15 }
  -
    size: 16MiB
mix: {GET: 70, PUT: 20, LIST: 2}
concurrency: 32
duration: 1.5
warmup: '2s'
listing:
  objects: 100_000
  pageSize: 1000
flags: [a, 'b c', 3, true, null]
tags:
- x
- y
empty:
`);
  assert.equal(doc, {
    name: 'mixed',
    description: '70% GET, with # inside quotes',
    sizes: [{ size: '4KiB', weight: 50 }, { min: '1MiB', max: '8MiB', weight: 15 }, { size: '16MiB' }],
    mix: { GET: 70, PUT: 20, LIST: 2 },
    concurrency: 32,
    duration: 1.5,
    warmup: '2s',
    listing: { objects: 100000, pageSize: 1000 },
    flags: ['a', 'b c', 3, true, null],
    tags: ['x', 'y'],
    empty: null,
  });
});

test('scalars', () => {
  assert.equal(parseYamlSubset('a: ~\nb: False\nc: -3\nd: 1e3\ne: 0x10\nf: "t\\"q\\n"\ng: \'it\'\'s\'\nh: 12abc'), {
    a: null,
    b: false,
    c: -3,
    d: 1000,
    e: 16,
    f: 't"q\n',
    g: "it's",
    h: '12abc',
  });
  assert.is(parseYamlSubset(''), null);
  assert.is(parseYamlSubset('# only a comment\n'), null);
});

test('errors carry the line number', () => {
  const cases: [string, RegExp][] = [
    ['a: 1\n\tb: 2', /line 2: tabs/],
    ['a: 1\na: 2', /line 2: duplicate key "a"/],
    ['a: [1, 2', /line 1: expected "\]"/],
    ['a: &anchor 1', /line 1: .*anchors/],
    ['a: |\n  text', /line 1: .*block scalars/],
    ['a: 1\n  b: 2', /line 2: unexpected indentation/],
    ['a: "open', /line 1: unterminated/],
    ['just a line', /line 1: expected "key: value"/],
    ['a: 1\n---\nb: 2', /line 2: only one document/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseYamlSubset(text), (e: unknown) => e instanceof YamlSubsetError && pattern.test(e.message), `${JSON.stringify(text)} should fail with ${pattern}`);
  }
});

test.run();
