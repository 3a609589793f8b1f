import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { ClientDisconnectError, ClientTimeoutError, pumpBody, readBody } from '../../../../common/http/body-reader.ts';
import { rejects } from '../../../helpers/rejects.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function* chunks(parts: readonly string[], pauseMs: number): AsyncGenerator<Buffer> {
  for (const p of parts) {
    await sleep(pauseMs);
    yield Buffer.from(p);
  }
}

async function collect(body: AsyncIterable<Buffer>, consumerMs = 0): Promise<string> {
  let out = '';
  for await (const c of body) {
    out += c.toString();
    if (consumerMs) await sleep(consumerMs);
  }
  return out;
}

test('a client that pauses longer than the idle time gets ClientTimeoutError (408)', async () => {
  await rejects(collect(readBody(chunks(['a', 'b'], 120), 40)), ClientTimeoutError);
});

test('only the wait for the client counts: a slow consumer of a steady body is not a timeout', async () => {
  assert.is(await collect(readBody(chunks(['a', 'b', 'c', 'd'], 5), 40), 60), 'abcd');
});

test('a broken body becomes ClientDisconnectError', async () => {
  async function* broken(): AsyncGenerator<Buffer> {
    yield Buffer.from('x');
    throw new Error('socket hang up');
  }
  await rejects(collect(readBody(broken(), 1000)), ClientDisconnectError);
});

test('regression: the chunks passed on are not kept until the body ends (a 1 GiB upload held 1 GiB)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const refs: WeakRef<Buffer>[] = [];
  async function* body(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 200; i++) {
      await sleep(0);
      yield Buffer.alloc(65_536, i);
    }
  }
  let read = 0;
  for await (const chunk of readBody(body(), 1000)) {
    if (read < 10) refs.push(new WeakRef(chunk));
    read++;
    if (read === 150) {
      // Let the WeakRefs' own hold (to the end of the job that made them) lapse, then collect.
      await sleep(0);
      gc();
      assert.equal(
        refs.filter((r) => r.deref() !== undefined).length,
        0,
        'the first chunks were collected while the body was still being read',
      );
    }
  }
  assert.is(read, 200);
});


/** A request body that sends `parts` `pauseMs` apart, then ends (or breaks, with `fail`). */
function streamOf(parts: readonly string[], pauseMs: number, fail?: string): PassThrough {
  const body = new PassThrough();
  void (async () => {
    for (const p of parts) {
      await sleep(pauseMs);
      body.write(Buffer.from(p));
    }
    await sleep(pauseMs);
    if (fail) body.destroy(new Error(fail));
    else body.end();
  })();
  return body;
}

test('pumpBody hands every chunk over in order and waits for a slow take before the next, without counting that wait as the client idle', async () => {
  let out = '';
  let busy = false;
  await pumpBody(streamOf(['a', 'b', 'c', 'd'], 5), 40, (chunk) => {
    assert.not.ok(busy, 'a chunk while the last is still being written');
    out += chunk.toString();
    if (chunk.toString() === 'c') return undefined;
    busy = true;
    return sleep(60).then(() => {
      busy = false;
    });
  });
  assert.is(out, 'abcd');
});

test('pumpBody: a client that pauses longer than the idle time gets ClientTimeoutError and its request is destroyed; a broken body is ClientDisconnectError', async () => {
  const slow = streamOf(['a', 'b'], 150);
  await rejects(
    pumpBody(slow, 40, () => undefined),
    ClientTimeoutError,
  );
  assert.ok(slow.destroyed);
  await rejects(
    pumpBody(streamOf(['a'], 5, 'socket hang up'), 1000, () => undefined),
    ClientDisconnectError,
  );
  const gone = new PassThrough();
  gone.destroy();
  await rejects(
    pumpBody(gone, 1000, () => undefined),
    ClientDisconnectError,
  );
});

test('pumpBody: a take that fails (a full disk) fails the pump and leaves the rest of the body unread, not destroyed, so the answer can still reach the client', async () => {
  const body = streamOf(['a', 'b', 'c'], 5);
  const err = new Error('ENOSPC');
  let taken = 0;
  await pumpBody(body, 1000, () => {
    taken++;
    if (taken === 2) return Promise.reject(err);
    return undefined;
  }).then(
    () => assert.unreachable('resolved'),
    (e: unknown) => assert.is(e, err),
  );
  await sleep(30);
  assert.is(taken, 2);
  assert.not.ok(body.destroyed);
});

test.run();
