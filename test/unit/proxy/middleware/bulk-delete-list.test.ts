import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import { readDeleteList } from '../../../../proxy/middleware/bulk-delete-list.ts';
import { rejects } from '../../../helpers/rejects.ts';

const LIMITS = { maxDeletes: 5, maxPathLength: 20 };

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p, 'latin1');
}

async function names(...parts: string[]): Promise<string[]> {
  return (await readDeleteList(chunks(...parts), LIMITS)).map((b) => b.toString('latin1'));
}

test('lines are stripped and unquoted; lines may span chunks; no trailing newline needed', async () => {
  assert.equal(await names('/c/o1\n  /c/o%202 \r\n/c', '/o3\n/c/%C3%BC'), ['/c/o1', '/c/o 2', '/c/o3', '/c/\xc3\xbc']);
});

test('blank lines inside count (as in Swift), a blank last line does not', async () => {
  assert.equal(await names('/a\n\n/b\n\n'), ['/a', '', '/b', '']);
  assert.equal(await names(''), []);
  assert.equal(await names('   '), []);
});

test('bytes that are not UTF-8 are kept as sent', async () => {
  assert.equal([...(await readDeleteList(chunks('/c/%FF\xfe'), LIMITS))[0] as Buffer], [0x2f, 0x63, 0x2f, 0xff, 0xfe]);
});

test('more names than allowed: 413 with Swift message', async () => {
  const err = await rejects(readDeleteList(chunks('1\n2\n3\n4\n5\n6'), LIMITS), HttpError);
  assert.is((err as HttpError).status, 413);
  assert.is((err as HttpError).body, 'Maximum Bulk Deletes: 5 per request');
  assert.equal(await names('1\n2\n3\n4\n5\n'), ['1', '2', '3', '4', '5']);
});

test('a line longer than twice the longest path: 400 Invalid File Name', async () => {
  const err = await rejects(readDeleteList(chunks('x'.repeat(41)), LIMITS), HttpError);
  assert.is((err as HttpError).status, 400);
  assert.is((err as HttpError).body, 'Invalid File Name');
  assert.equal(await names(`${'x'.repeat(40)}\n`), ['x'.repeat(40)]);
});

test.run();
