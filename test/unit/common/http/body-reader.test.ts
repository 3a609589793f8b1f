import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientDisconnectError, ClientTimeoutError, readBody } from '../../../../common/http/body-reader.ts';
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

test.run();
