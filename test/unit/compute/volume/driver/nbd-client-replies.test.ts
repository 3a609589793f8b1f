import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NbdClient } from '../../../../../compute/volume/driver/nbd-client.ts';
import { NbdError } from '../../../../../compute/volume/driver/nbd-error.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { rejects } from '../../../../helpers/rejects.ts';

/**
 * The client against a scripted NBD server that sends what qemu-nbd does not: replies out of
 * order and dribbled a few bytes at a time, data and holes in one read, error chunks, partial
 * block status answers, a refused export, a connection dropped mid-request.
 */

const KiB = 1024;
const SIZE = 1024 * KiB;
const MAX_PAYLOAD = 64 * KiB;
const BASE_ALLOCATION_ID = 7;

interface Request {
  command: number;
  cookie: Buffer;
  offset: number;
  length: number;
}

type Handler = (requests: Request[], socket: Socket) => Promise<Buffer[] | 'drop'>;

/** Byte-at-a-time reading of what the client sends. */
function reader(socket: Socket): (n: number) => Promise<Buffer> {
  let have = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (b: Buffer) => {
    have = Buffer.concat([have, b]);
    wake?.();
  });
  return async (n) => {
    while (have.length < n) await new Promise<void>((resolve) => (wake = resolve));
    const out = have.subarray(0, n);
    have = have.subarray(n);
    return out;
  };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u64(n: number): Buffer {
  return Buffer.concat([u32(Math.floor(n / 2 ** 32)), u32(n)]);
}
function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u32(0x0003e889), u32(0x045565a9), u32(option), u32(type), u32(data.length), data]);
}
function chunk(flags: number, type: number, cookie: Buffer, payload: Buffer): Buffer {
  return Buffer.concat([u32(0x668e33ef), u16(flags), u16(type), cookie, u32(payload.length), payload]);
}
function simple(errno: number, cookie: Buffer, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u32(0x67446698), u32(errno), cookie, data]);
}
/** The byte the fake export holds at `offset`. */
function byteAt(offset: number): number {
  return (offset * 31 + 7) & 0xff;
}
function bytes(offset: number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => byteAt(offset + i)));
}

/** Sends `data` in pieces of 1-7 bytes, yielding between them, so the client sees every split. */
async function dribble(socket: Socket, data: Buffer): Promise<void> {
  for (let at = 0, step = 1; at < data.length; at += step, step = (step % 7) + 1) {
    socket.write(data.subarray(at, at + step));
    if (at % 64 === 0) await tick();
  }
}

async function withServer(options: { structured: boolean; refuseExport?: string; batch?: number }, handler: Handler, body: (socketPath: string) => Promise<void>): Promise<void> {
  const tmp = await makeTempDir('swiftlet-nbd-fake-');
  const path = join(tmp.path, 's.sock');
  const server: Server = createServer((socket) => {
    void (async () => {
      const read = reader(socket);
      socket.write(Buffer.concat([Buffer.from('NBDMAGICIHAVEOPT'), u16(3)]));
      await read(4);
      for (;;) {
        const head = await read(16);
        const option = head.readUInt32BE(8);
        await read(head.readUInt32BE(12));
        if (option === 8) socket.write(optionReply(option, options.structured ? 1 : 2 ** 31 + 1));
        else if (option === 10) socket.write(Buffer.concat([optionReply(option, 4, Buffer.concat([u32(BASE_ALLOCATION_ID), Buffer.from('base:allocation')])), optionReply(option, 1)]));
        else if (option === 7 && options.refuseExport !== undefined) socket.write(optionReply(option, 2 ** 31 + 6, Buffer.from(options.refuseExport)));
        else if (option === 7) {
          socket.write(Buffer.concat([optionReply(option, 3, Buffer.concat([u16(0), u64(SIZE), u16(1 | 4)])), optionReply(option, 3, Buffer.concat([u16(3), u32(1), u32(4096), u32(MAX_PAYLOAD)])), optionReply(option, 1)]));
          break;
        } else socket.write(optionReply(option, 2 ** 31 + 1));
      }
      // Transmission: gather `batch` requests, then answer them as the handler says.
      for (;;) {
        const batch: Request[] = [];
        while (batch.length < (options.batch ?? 1)) {
          const h = await read(28);
          const command = h.readUInt16BE(6);
          if (command === 2) return socket.end();
          const request = { command, cookie: Buffer.from(h.subarray(8, 16)), offset: h.readUInt32BE(16) * 2 ** 32 + h.readUInt32BE(20), length: h.readUInt32BE(24) };
          if (command === 1) await read(request.length);
          batch.push(request);
        }
        const replies = await handler(batch, socket);
        if (replies === 'drop') return socket.destroy();
        await dribble(socket, Buffer.concat(replies));
      }
    })().catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    await body(path);
  } finally {
    server.close();
    await tmp.remove();
  }
}


test('structured replies out of order, in pieces: data and hole chunks land where they belong; no request above the max payload', async () => {
  const seen: number[] = [];
  const handler: Handler = async (requests) => {
    seen.push(...requests.map((r) => r.length));
    // Last request first; each as data for its first half, a hole for the rest, then NONE+DONE.
    return requests.reverse().map((r) => {
      const half = Math.floor(r.length / 2);
      return Buffer.concat([chunk(0, 1, r.cookie, Buffer.concat([u64(r.offset), bytes(r.offset, half)])), chunk(0, 2, r.cookie, Buffer.concat([u64(r.offset + half), u32(r.length - half)])), chunk(1, 0, r.cookie, Buffer.alloc(0))]);
    });
  };
  await withServer({ structured: true, batch: 4 }, handler, async (path) => {
    const client = await NbdClient.connect(path);
    assert.is(client.size, SIZE);
    assert.is(client.readOnly, false);
    const buffer = new Uint8Array(3 * MAX_PAYLOAD + 1000).fill(0xff);
    assert.is(await client.readInto(buffer, 5000), buffer.length);
    assert.equal(seen, [MAX_PAYLOAD, MAX_PAYLOAD, MAX_PAYLOAD, 1000]);
    for (let r = 0; r < 4; r++) {
      const start = r * MAX_PAYLOAD;
      const length = r < 3 ? MAX_PAYLOAD : 1000;
      const half = Math.floor(length / 2);
      assert.ok(Buffer.from(buffer.subarray(start, start + half)).equals(bytes(5000 + start, half)), `request ${r} data`);
      assert.ok(buffer.subarray(start + half, start + length).every((b) => b === 0), `request ${r} hole`);
    }
    await client.close();
  });
});

test("an error chunk fails that read with the server's errno and message; the other read still succeeds", async () => {
  const handler: Handler = async (requests) =>
    requests.map((r) =>
      r.offset === 0
        ? chunk(1, 2 ** 15 + 2, r.cookie, Buffer.concat([u32(5), u16(10), Buffer.from('bad sector'), u64(r.offset)]))
        : chunk(1, 1, r.cookie, Buffer.concat([u64(r.offset), bytes(r.offset, r.length)])),
    );
  await withServer({ structured: true, batch: 2 }, handler, async (path) => {
    const client = await NbdClient.connect(path);
    const good = new Uint8Array(100);
    const [bad, ok] = await Promise.allSettled([client.readInto(new Uint8Array(100), 0), client.readInto(good, 4096)]);
    assert.is(bad.status, 'rejected');
    const err = (bad as PromiseRejectedResult).reason as NbdError;
    assert.instance(err, NbdError);
    assert.is(err.errnoName, 'EIO');
    assert.match(err.message, 'bad sector');
    assert.is(ok.status, 'fulfilled');
    assert.ok(Buffer.from(good).equals(bytes(4096, 100)));
    await client.close();
  });
});

test('simple replies (structured refused): reads out of order in pieces, writes, an errno', async () => {
  const handler: Handler = async (requests) =>
    requests.reverse().map((r) => {
      if (r.command === 0) return simple(0, r.cookie, bytes(r.offset, r.length));
      if (r.command === 1 && r.offset === 0) return simple(28, r.cookie);
      return simple(0, r.cookie);
    });
  await withServer({ structured: false, batch: 2 }, handler, async (path) => {
    const client = await NbdClient.connect(path, { structuredReplies: true });
    const buffer = new Uint8Array(MAX_PAYLOAD + 500);
    await client.readInto(buffer, 100);
    assert.ok(Buffer.from(buffer).equals(bytes(100, buffer.length)));
    const [full, fine] = await Promise.allSettled([client.write(0, new Uint8Array(10)), client.write(4096, new Uint8Array(10))]);
    assert.is(((full as PromiseRejectedResult).reason as NbdError).errnoName, 'ENOSPC');
    assert.is(fine.status, 'fulfilled');
    const meta = await rejects(client.blockStatus('base:allocation', 0, 10));
    assert.instance(meta, NbdError);
    await client.close();
  });
});

test('block status: extents are gathered over several answers, merged, and cut to the range', async () => {
  const handler: Handler = async ([r]) => {
    if (r === undefined) return [];
    // Answer for at most 96 KiB: 32 KiB allocated, then 64 KiB hole, then (past the answer) nothing.
    const extents = Buffer.concat([u32(32 * KiB), u32(0), u32(64 * KiB), u32(3)]);
    return [chunk(1, 5, r.cookie, Buffer.concat([u32(BASE_ALLOCATION_ID), extents]))];
  };
  await withServer({ structured: true }, handler, async (path) => {
    const client = await NbdClient.connect(path, { metaContexts: ['base:allocation', 'qemu:dirty-bitmap:x'] });
    assert.equal([...client.contexts], [['base:allocation', BASE_ALLOCATION_ID]]);
    const extents = await client.blockStatus('base:allocation', 16 * KiB, 200 * KiB);
    // Each answer starts at the offset asked: 32K data, 64K hole, 32K data, 64K hole, 8K data.
    assert.equal(extents, [
      { offset: 16 * KiB, length: 32 * KiB, flags: 0 },
      { offset: 48 * KiB, length: 64 * KiB, flags: 3 },
      { offset: 112 * KiB, length: 32 * KiB, flags: 0 },
      { offset: 144 * KiB, length: 64 * KiB, flags: 3 },
      { offset: 208 * KiB, length: 8 * KiB, flags: 0 },
    ]);
    const unknown = await rejects(client.blockStatus('qemu:dirty-bitmap:x', 0, 10));
    assert.is((unknown as NbdError).errnoName, 'EINVAL');
    await client.close();
  });
});

test('a connection dropped mid-request rejects every request in flight, and later ones', async () => {
  await withServer({ structured: true, batch: 2 }, async () => 'drop', async (path) => {
    const client = await NbdClient.connect(path);
    const results = await Promise.allSettled([client.readInto(new Uint8Array(10), 0), client.readInto(new Uint8Array(10), 4096)]);
    for (const r of results) {
      assert.is(r.status, 'rejected');
      assert.is(((r as PromiseRejectedResult).reason as NbdError).errnoName, 'ESHUTDOWN');
    }
    assert.instance(await rejects(client.flush()), NbdError);
    await client.close();
  });
});

test('a reply to no request, or a chunk too big to gather, is a broken server: everything in flight fails with EIO', async () => {
  const unknownCookie: Handler = async ([r]) => (r === undefined ? [] : [simple(0, Buffer.from([0, 0, 0, 0, 0, 0, 0, 99]))]);
  const hugeChunk: Handler = async ([r]) => (r === undefined ? [] : [Buffer.concat([u32(0x668e33ef), u16(1), u16(5), r.cookie, u32(100 * 1024 * KiB)])]);
  for (const handler of [unknownCookie, hugeChunk]) {
    await withServer({ structured: true }, handler, async (path) => {
      const client = await NbdClient.connect(path, { metaContexts: ['base:allocation'] });
      const err = (await rejects(client.blockStatus('base:allocation', 0, KiB))) as NbdError;
      assert.is(err.errnoName, 'EIO');
      assert.match(err.message, 'server broke the protocol');
      assert.is(((await rejects(client.readInto(new Uint8Array(1), 0))) as NbdError).errnoName, 'EIO');
      await client.close();
    });
  }
});

test("an export the server refuses: connect rejects with the server's message", async () => {
  await withServer({ structured: true, refuseExport: 'export "disk9" not present' }, async () => [], async (path) => {
    const err = await rejects(NbdClient.connect(path, { exportName: 'disk9' }));
    assert.instance(err, NbdError);
    assert.match((err as Error).message, 'NBD_REP_ERR_UNKNOWN: export "disk9" not present');
  });
});

test.run();
