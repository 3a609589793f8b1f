import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UploadMismatchError, UploadTooLargeError } from '../../../client/errors.ts';
import { UploadTally } from '../../../client/upload-tally.ts';
import { rejects } from '../../helpers/rejects.ts';

/** The byte count both uploads share: limits refused before a chunk goes on, hashes fed. */

async function* each(list: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* list;
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of source) out.push(chunk);
  return out;
}

test('counts and hashes what passes, the chunks themselves', async () => {
  const md5 = createHash('md5');
  const tally = new UploadTally({ expectedSize: 6 }, [md5]);
  const chunks = [Buffer.from('abc'), Buffer.from('def')];
  const out = await drain(tally.pass(each(chunks)));
  assert.is(out[0], chunks[0]);
  assert.is(out[1], chunks[1]);
  assert.is(tally.total, 6);
  assert.is(md5.digest('hex'), createHash('md5').update('abcdef').digest('hex'));
});

test('the chunk that passes maxBytes is refused before it goes on', async () => {
  const tally = new UploadTally({ maxBytes: 4 }, []);
  const out: Uint8Array[] = [];
  const err = await rejects(
    (async () => {
      for await (const chunk of tally.pass(each([Buffer.from('abc'), Buffer.from('de')]))) out.push(chunk);
    })(),
    UploadTooLargeError,
  );
  assert.is((err as UploadTooLargeError).limit, 4);
  assert.is(out.length, 1);
});

test('more than expectedSize is refused as it comes; fewer at the end', async () => {
  const over = new UploadTally({ expectedSize: 4 }, []);
  const longer = await rejects(drain(over.pass(each([Buffer.from('abc'), Buffer.from('de')]))), UploadMismatchError);
  assert.is((longer as UploadMismatchError).what, 'size');
  const under = new UploadTally({ expectedSize: 4 }, []);
  await rejects(drain(under.pass(each([Buffer.from('abc')]))), /3 bytes, 4 expected/);
  assert.not.throws(() => new UploadTally({}, []).end());
});

test.run();
