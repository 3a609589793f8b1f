import { spawnSync } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SwiftError } from '../../../common/errors.ts';
import { batchedSink, createLogger } from '../../../common/logger.ts';
import { newTransId } from '../../../common/trans-id.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

test('one JSON object per line, child fields (the transaction id) on every line', () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: (l) => lines.push(l), clock: new ManualClock(0), fields: { server: 'proxy' } });
  const request = logger.child({ txn: 'tx123' });
  request.info('GET /v1/a', { status: 200 });
  request.debug('hidden at info level');
  logger.error('failed', { err: new SwiftError('SOME_CODE', 'boom') });
  assert.is(lines.length, 2);
  const first = JSON.parse(lines[0] as string);
  assert.equal({ ...first, time: undefined }, { time: undefined, level: 'info', server: 'proxy', txn: 'tx123', msg: 'GET /v1/a', status: 200 });
  assert.is(first.time, '1970-01-01T00:00:00.000Z');
  const second = JSON.parse(lines[1] as string);
  assert.is(second.err.code, 'SOME_CODE');
  assert.is(second.err.message, 'boom');
  assert.is(second.txn, undefined);
});

test("a line's time is Date.toISOString's, within a second, across seconds and outside years 0-9999", () => {
  const clock = new ManualClock(0);
  const lines: string[] = [];
  const logger = createLogger({ sink: (l) => lines.push(l), clock }).child({ txn: 'tx1' });
  const times = [0, 7.9, 99, 999, 1000, 1_700_000_000_005, 1_700_000_000_050, 1_700_000_000_999, 1_700_000_001_000, 1_699_999_999_999, 253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_001];
  for (const t of times) {
    clock.advance(t - clock.now());
    logger.info('tick');
  }
  assert.equal(lines.map((l) => JSON.parse(l).time), times.map((t) => new Date(t).toISOString()));
});

test('a field named like a bound one (or time, level, msg) takes its place, as in one record', () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: (l) => lines.push(l), clock: new ManualClock(0), fields: { server: 'proxy' } }).child({ txn: 'tx1' });
  logger.warn('m', { server: 'object', gone: undefined, level: 'mine', n: 1 });
  assert.is(lines[0], '{"time":"1970-01-01T00:00:00.000Z","level":"mine","server":"object","txn":"tx1","msg":"m","n":1}');
});

test("transaction ids have Swift's shape, with the client's extra suffix", () => {
  const id = newTransId(1_700_000_000_000);
  assert.match(id, /^tx[0-9a-f]{21}-006553f100$/);
  assert.match(newTransId(1_700_000_000_000, 'my job/1'), /^tx[0-9a-f]{21}-006553f100my%20job%2F1$/);
});

test('regression: a log line that cannot be written (stderr on a full disk) is dropped, not the end of the server', () => {
  // /dev/full answers every write with ENOSPC, like a log file on a full disk.
  const full = openSync('/dev/full', 'w');
  try {
    const logger = fileURLToPath(new URL('../../../common/logger.ts', import.meta.url));
    const script = `import { createLogger } from ${JSON.stringify(logger)}; const log = createLogger(); for (let i = 0; i < 100; i++) log.info('line ' + i); setTimeout(() => console.log('still serving'), 50);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', full], encoding: 'utf8', timeout: 20_000 });
    assert.is(child.status, 0);
    assert.is(child.stdout.trim(), 'still serving');
  } finally {
    closeSync(full);
  }
});


test('lines logged in one turn of the event loop are written together, in order; flush writes what is pending', () => {
  const writes: string[] = [];
  const deferred: (() => void)[] = [];
  const sink = batchedSink((chunk) => writes.push(chunk), (run) => deferred.push(run));
  sink('a');
  sink('b');
  assert.equal(writes, []);
  assert.is(deferred.length, 1, 'one flush scheduled per turn');
  deferred.shift()?.();
  assert.equal(writes, ['a\nb\n']);
  sink('c');
  sink.flush();
  assert.equal(writes, ['a\nb\n', 'c\n']);
  deferred.shift()?.(); // the turn's own flush finds nothing left
  assert.equal(writes, ['a\nb\n', 'c\n']);
});

test('lines logged just before the process exits are written (stderr is batched)', () => {
  const logger = fileURLToPath(new URL('../../../common/logger.ts', import.meta.url));
  const script = `import { createLogger } from ${JSON.stringify(logger)}; const log = createLogger({ fields: { server: 'x' } }); log.info('first'); createLogger().warn('second'); process.exit(3);`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.is(child.status, 3);
  assert.equal(child.stderr.trim().split('\n').map((l) => JSON.parse(l).msg), ['first', 'second']);
});

test.run();
