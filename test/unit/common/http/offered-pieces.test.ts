import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readBodyPieces } from '../../../../common/http/body-pieces.ts';
import { offeredPieces, offerPieces, passOfferedPieces } from '../../../../common/http/offered-pieces.ts';
import { hasLentChunks } from '../../../../common/release-buffer.ts';

function socketOf(bytes: Buffer): PassThrough {
  const socket = new PassThrough();
  socket.end(bytes);
  return socket;
}

test('a wrapper that only looks passes the offer on: its reader gets the pieces, lent, and the wrapper sees each', async () => {
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
  const socket = socketOf(bytes);
  const body = offerPieces(socket, ({ idleMs }) => readBodyPieces(socket, { idleMs, releaseChunks: false }));
  let seen = 0;
  const wrapper = passOfferedPieces(body, { async *[Symbol.asyncIterator]() {} }, (piece) => (seen += piece.length));
  const read = offeredPieces(wrapper);
  assert.ok(read, 'the wrapper offers pieces');
  const pieces = read({ idleMs: 1000 });
  assert.ok(hasLentChunks(pieces), 'the pieces are marked lent');
  let total = 0;
  for await (const piece of pieces) total += piece.length;
  assert.is(total, bytes.length);
  assert.is(seen, bytes.length);
});

test('a body that was not offered offers nothing, wrapped or not', () => {
  const body = new PassThrough();
  assert.is(offeredPieces(body), undefined);
  assert.is(offeredPieces(passOfferedPieces(body, {}, () => undefined)), undefined);
});

test.run();
