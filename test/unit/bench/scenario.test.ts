import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BenchError, ScenarioError } from '../../../bench/bench-error.ts';
import { applyOverrides, loadScenario, parseScenario, parseScenarioText, scenarioToJson, standardScenarios } from '../../../bench/scenario.ts';

const minimal = { size: '4KiB', mix: { PUT: 1 }, duration: 10 };

function fails(doc: unknown, field: string, pattern?: RegExp): void {
  let caught: unknown;
  try {
    parseScenario(doc, 'my.json');
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, ScenarioError, `accepted ${JSON.stringify(doc)}`);
  const e = caught as ScenarioError;
  assert.is(e.field, field);
  assert.is(e.source, 'my.json');
  assert.ok(e.message.startsWith(`my.json: ${field}`), e.message);
  if (pattern) assert.match(e.message, pattern);
}

test('defaults', () => {
  const s = parseScenario(minimal, 'my.json', 'my');
  assert.is(s.name, 'my');
  assert.is(s.concurrency, 16);
  assert.is(s.durationSeconds, 10);
  assert.is(s.count, null);
  assert.is(s.warmupSeconds, 0);
  assert.is(s.containers, 1);
  assert.is(s.containerPrefix, 'swiftlet-bench');
  assert.is(s.prefill, 0, 'a PUT-only mix needs no prefill');
  assert.equal(s.listing, { objects: 0, pageSize: 1000 });
  assert.is(s.cleanup, 'run');
  assert.equal(s.mix, { PUT: 1, GET: 0, HEAD: 0, DELETE: 0, LIST: 0 });
  assert.is(parseScenario({ ...minimal, mix: { get: 1, put: 1 }, concurrency: 8 }, 'f').prefill, 32, 'reads get 4 * concurrency objects by default');
});

test('full scenario with weighted sizes and ranges, count and duration strings', () => {
  const s = parseScenario({
    name: 'mix-1',
    sizes: [{ size: '4KiB', weight: 3 }, { min: '1MiB', max: '2MiB', weight: 1 }, 100],
    mix: { GET: 70, PUT: 30 },
    concurrency: 4,
    duration: '2m',
    count: 500,
    warmup: '500ms',
    containers: 3,
    prefill: 10,
    listing: { objects: 1000, pageSize: 100 },
    cleanup: 'all',
  }, 'f');
  assert.equal(s.sizes.classes, [{ min: 4096, max: 4096, weight: 3 }, { min: 1048576, max: 2097152, weight: 1 }, { min: 100, max: 100, weight: 1 }]);
  assert.is(s.durationSeconds, 120);
  assert.is(s.count, 500);
  assert.is(s.warmupSeconds, 0.5);
  assert.is(s.cleanup, 'all');
  // Round trip through the document form.
  assert.equal(scenarioToJson(parseScenario(scenarioToJson(s), 'again')), scenarioToJson(s));
});

test('bad files give errors naming the field and value', () => {
  fails([], '(top level)');
  fails({ ...minimal, sizez: 1 }, 'sizez', /unknown field/);
  fails({ mix: { PUT: 1 }, duration: 1 }, 'sizes', /missing/);
  fails({ ...minimal, size: 'huge' }, 'size', /= "huge": not a size/);
  fails({ ...minimal, size: undefined, sizes: [] }, 'sizes', /at least one/);
  fails({ ...minimal, size: undefined, sizes: [{ size: '1KiB', weight: -1 }] }, 'sizes[0].weight', /= -1/);
  fails({ ...minimal, size: undefined, sizes: [{ min: '2KiB', max: '1KiB' }] }, 'sizes[0].min', /larger than max/);
  fails({ ...minimal, size: undefined, sizes: [{ min: '2KiB' }] }, 'sizes[0]', /both "min" and "max"/);
  fails({ ...minimal, size: undefined, sizes: [{ size: 1, colour: 'red' }] }, 'sizes[0].colour', /unknown field/);
  fails({ ...minimal, size: undefined, sizes: [{ size: 1, weight: 0 }] }, 'sizes', /every weight is 0/);
  fails({ ...minimal, sizes: [1] }, 'sizes', /not both/);
  fails({ ...minimal, mix: { PUT: 1, COPY: 2 } }, 'mix.COPY', /unknown operation/);
  fails({ ...minimal, mix: { PUT: 0 } }, 'mix', /every weight is 0/);
  fails({ ...minimal, mix: { GET: '70' } }, 'mix.GET', /= "70": must be a number/);
  fails({ ...minimal, mix: 'GET' }, 'mix');
  fails({ ...minimal, concurrency: 0 }, 'concurrency', /= 0: must be a whole number from 1/);
  fails({ ...minimal, concurrency: 2.5 }, 'concurrency');
  fails({ size: 1, mix: { PUT: 1 } }, 'duration', /duration .* or a count/);
  fails({ ...minimal, duration: 'soon' }, 'duration', /= "soon"/);
  fails({ ...minimal, duration: 0 }, 'duration', /more than 0/);
  fails({ ...minimal, count: -5 }, 'count');
  fails({ ...minimal, containers: 0 }, 'containers');
  fails({ ...minimal, containerPrefix: 'a/b' }, 'containerPrefix');
  fails({ ...minimal, name: 'has space' }, 'name');
  fails({ ...minimal, mix: { GET: 1 }, prefill: 0 }, 'prefill', /never PUTs/);
  fails({ ...minimal, listing: { objects: -1 } }, 'listing.objects');
  fails({ ...minimal, listing: { pageSize: 20000 } }, 'listing.pageSize', /from 1 to 10000/);
  fails({ ...minimal, listing: { object: 5 } }, 'listing.object', /unknown field/);
  fails({ ...minimal, cleanup: 'yes' }, 'cleanup', /"run", "all" or "none"/);
});

test('file text: JSON and YAML, syntax errors name the file', () => {
  const fromYaml = parseScenarioText('size: 4KiB\nmix: {PUT: 1}\ncount: 10\n', '/x/quick.yaml');
  assert.is(fromYaml.name, 'quick');
  assert.is(fromYaml.count, 10);
  assert.throws(() => parseScenarioText('{"size": 1,', '/x/bad.json'), (e: unknown) => e instanceof ScenarioError && /^\/x\/bad\.json: \(file\): not valid JSON/.test(e.message));
  assert.throws(() => parseScenarioText('size: 1\n\tmix: 2', '/x/bad.yml'), (e: unknown) => e instanceof ScenarioError && /not valid YAML.*line 2/.test(e.message));
});

test('overrides: validated like the file, errors name the flag', () => {
  const base = parseScenario({ ...minimal, mix: { GET: 1, PUT: 1 }, count: 100, concurrency: 4, prefill: 7 }, 'f', 'base');
  const o = applyOverrides(base, { duration: '5' });
  assert.is(o.durationSeconds, 5);
  assert.is(o.count, null, '--duration alone drops the file count');
  const c = applyOverrides(base, { count: '20' });
  assert.is(c.count, 20);
  assert.is(c.durationSeconds, null);
  const both = applyOverrides(base, { count: '20', duration: '3s' });
  assert.is(both.count, 20);
  assert.is(both.durationSeconds, 3);
  assert.is(applyOverrides(base, { concurrency: '2' }).prefill, 7, 'the file prefill stays');
  assert.is(applyOverrides(base, { prefill: '3' }).prefill, 3);
  assert.is(applyOverrides(base, { objects: '500' }).listing.objects, 500);
  assert.equal(applyOverrides(base, { size: '1MiB' }).sizes.classes, [{ min: 1048576, max: 1048576, weight: 1 }]);
  assert.equal(applyOverrides(base, { mix: 'head:3,DELETE=1' }).mix, { PUT: 0, GET: 0, HEAD: 3, DELETE: 1, LIST: 0 });
  assert.is(applyOverrides(base, { containerPrefix: 'mine' }).containerPrefix, 'mine');
  const cases: [Parameters<typeof applyOverrides>[1], RegExp][] = [
    [{ concurrency: 'many' }, /^--concurrency: concurrency = "many"/],
    [{ duration: 'forever' }, /^--duration: duration = "forever"/],
    [{ objects: '-3' }, /^--objects: listing\.objects = "-3"/],
    [{ size: '3 parsecs' }, /^--size: size = "3 parsecs"/],
    [{ mix: 'GET' }, /^--mix: mix = "GET"/],
    [{ mix: 'COPY:1' }, /^--mix: mix\.COPY/],
    [{ cleanup: 'maybe' }, /^--cleanup: cleanup = "maybe"/],
  ];
  for (const [overrides, pattern] of cases) {
    assert.throws(() => applyOverrides(base, overrides), (e: unknown) => e instanceof ScenarioError && pattern.test(e.message), JSON.stringify(overrides));
  }
});

test('standard scenarios load and are valid', async () => {
  const names = await standardScenarios();
  for (const name of ['small', 'medium', 'large', 'mixed', 'listing']) assert.ok(names.includes(name), `${name} is shipped`);
  const small = await loadScenario('small');
  assert.equal(small.sizes.classes, [{ min: 4096, max: 4096, weight: 1 }]);
  assert.is((await loadScenario('medium')).sizes.maxSize, 1048576);
  assert.is((await loadScenario('large')).sizes.maxSize, 64 * 1048576);
  const mixed = await loadScenario('mixed');
  assert.is(mixed.mix.GET / Object.values(mixed.mix).reduce((a, b) => a + b, 0), 0.7);
  assert.ok(mixed.sizes.classes.length > 1);
  const listing = await loadScenario('listing');
  assert.is(listing.listing.objects, 100_000);
  assert.ok(listing.mix.LIST > 0);
  for (const name of names) await loadScenario(name);
});

test('an unknown scenario lists the standard ones', async () => {
  const err = await loadScenario('nope').then(() => undefined, (e: unknown) => e);
  assert.instance(err, BenchError);
  assert.is((err as BenchError).code, 'BENCH_USAGE');
  assert.match((err as Error).message, /small/);
});

test.run();
