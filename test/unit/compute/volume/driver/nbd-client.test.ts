import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NbdClient, type NbdExtent } from '../../../../../compute/volume/driver/nbd-client.ts';
import { NbdError } from '../../../../../compute/volume/driver/nbd-error.ts';
import { type QemuNbd, startQemuNbd } from '../../../../../compute/volume/driver/qemu-nbd.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { rejects } from '../../../../helpers/rejects.ts';
import { withQcow2Image } from '../../../../helpers/qcow2-image.ts';

/**
 * The NBD client against a real qemu-nbd (Debian qemu-utils) serving a temporary qcow2 image,
 * written by qemu-io and by the client itself.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
/** qcow2's default cluster, which is also the default granularity of its dirty bitmaps. */
const CLUSTER = 64 * KiB;


/** Serves `image` while `body` runs, connected; stops qemu-nbd after. */
async function served(image: string, dir: string, options: { readOnly: boolean; bitmaps?: string[]; metaContexts?: string[]; structuredReplies?: boolean }, body: (client: NbdClient) => Promise<void>): Promise<void> {
  const nbd = await startQemuNbd({ path: image, format: 'qcow2', readOnly: options.readOnly, bitmaps: options.bitmaps ?? [], dir });
  try {
    const connectOptions: Parameters<typeof NbdClient.connect>[1] = {};
    if (options.metaContexts !== undefined) connectOptions.metaContexts = options.metaContexts;
    if (options.structuredReplies !== undefined) connectOptions.structuredReplies = options.structuredReplies;
    const client = await NbdClient.connect(nbd.socket, connectOptions);
    try {
      await body(client);
    } finally {
      await client.close();
    }
  } finally {
    await nbd.stop();
  }
}

function qemuIo(image: string, command: string): void {
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', command, image], { stdio: 'ignore' });
}

function assertFilled(bytes: Uint8Array, value: number, what: string): void {
  const bad = bytes.findIndex((b) => b !== value);
  assert.is(bad, -1, `${what}: byte ${bad} is ${bytes[bad]}, not ${value}`);
}


test('the client sees the export size and whether it is read-only', async () => {
  await withQcow2Image(64 * MiB, async (image, dir) => {
    await served(image, dir, { readOnly: true }, async (client) => {
      assert.is(client.size, 64 * MiB);
      assert.is(client.readOnly, true);
    });
    await served(image, dir, { readOnly: false }, async (client) => {
      assert.is(client.readOnly, false);
    });
  });
});

test('a read returns what qemu-io wrote, and the holes around it as zeros', async () => {
  await withQcow2Image(64 * MiB, async (image, dir) => {
    qemuIo(image, 'write -P 0xab 1M 64k');
    await served(image, dir, { readOnly: true }, async (client) => {
      const buffer = new Uint8Array(3 * MiB).fill(0xff); // holes must be written, not skipped
      assert.is(await client.readInto(buffer, 0), 3 * MiB);
      assertFilled(buffer.subarray(0, MiB), 0, 'before');
      assertFilled(buffer.subarray(MiB, MiB + 64 * KiB), 0xab, 'written');
      assertFilled(buffer.subarray(MiB + 64 * KiB), 0, 'after');
    });
  });
});

test('what the client writes and flushes is there for the next reader, and for qemu-io', async () => {
  await withQcow2Image(16 * MiB, async (image, dir) => {
    const data = new Uint8Array(5 * MiB + 123).map((_, i) => (i * 7) & 0xff);
    await served(image, dir, { readOnly: false }, async (client) => {
      await client.write(3 * MiB + 5, data);
      await client.flush();
      const back = new Uint8Array(data.length);
      await client.readInto(back, 3 * MiB + 5);
      assert.ok(Buffer.from(back).equals(data));
    });
    await served(image, dir, { readOnly: true }, async (client) => {
      const back = new Uint8Array(data.length);
      await client.readInto(back, 3 * MiB + 5);
      assert.ok(Buffer.from(back).equals(data));
    });
    execFileSync('qemu-io', ['-f', 'qcow2', '-r', '-c', `read -P ${(7 * 16) & 0xff} ${3 * MiB + 5 + 16} 1`, image]);
  });
});

test('write zeroes: the range reads as zeros and takes no data clusters (base:allocation says zero)', async () => {
  await withQcow2Image(16 * MiB, async (image, dir) => {
    qemuIo(image, 'write -P 0x77 0 4M');
    await served(image, dir, { readOnly: false, metaContexts: ['base:allocation'] }, async (client) => {
      await client.writeZeroes(MiB, 2 * MiB);
      await client.flush();
      const buffer = new Uint8Array(4 * MiB);
      await client.readInto(buffer, 0);
      assertFilled(buffer.subarray(0, MiB), 0x77, 'before');
      assertFilled(buffer.subarray(MiB, 3 * MiB), 0, 'zeroed');
      assertFilled(buffer.subarray(3 * MiB), 0x77, 'after');
      const zeroed = (await client.blockStatus('base:allocation', MiB, 2 * MiB)).every((e) => (e.flags & 2) === 2);
      assert.ok(zeroed, 'the zeroed range is reported as zeros');
    });
  });
});

test('a read across the end of the export returns the bytes up to the end; one past it, none', async () => {
  await withQcow2Image(4 * MiB, async (image, dir) => {
    qemuIo(image, 'write -P 0x5a 4032k 64k');
    await served(image, dir, { readOnly: true }, async (client) => {
      const buffer = new Uint8Array(MiB).fill(1);
      assert.is(await client.readInto(buffer, 4 * MiB - 1000), 1000);
      assertFilled(buffer.subarray(0, 1000), 0x5a, 'the last bytes');
      assertFilled(buffer.subarray(1000), 1, 'past the end, untouched');
      assert.is(await client.readInto(buffer, 4 * MiB), 0);
    });
  });
});

test('a read larger than the server takes in one request (qemu: 32 MiB) is split and lands in place', async () => {
  await withQcow2Image(64 * MiB, async (image, dir) => {
    qemuIo(image, 'write -P 0x11 0 1M');
    qemuIo(image, 'write -P 0x22 33M 1M');
    qemuIo(image, 'write -P 0x33 39M 1M');
    await served(image, dir, { readOnly: true }, async (client) => {
      const buffer = new Uint8Array(40 * MiB + 17).fill(0xee);
      assert.is(await client.readInto(buffer, 0), 40 * MiB + 17);
      assertFilled(buffer.subarray(0, MiB), 0x11, '0-1M');
      assertFilled(buffer.subarray(MiB, 33 * MiB), 0, '1M-33M');
      assertFilled(buffer.subarray(33 * MiB, 34 * MiB), 0x22, '33M');
      assertFilled(buffer.subarray(34 * MiB, 39 * MiB), 0, '34M-39M');
      assertFilled(buffer.subarray(39 * MiB, 40 * MiB), 0x33, '39M');
      assertFilled(buffer.subarray(40 * MiB), 0, 'the tail');
    });
  });
});

test('concurrent reads each get their own bytes', async () => {
  await withQcow2Image(32 * MiB, async (image, dir) => {
    for (let i = 0; i < 8; i++) qemuIo(image, `write -P ${i + 1} ${i * 4}M 4M`);
    await served(image, dir, { readOnly: true }, async (client) => {
      const buffers = Array.from({ length: 8 }, () => new Uint8Array(4 * MiB + 1));
      await Promise.all(buffers.map((b, i) => client.readInto(b, i * 4 * MiB)));
      buffers.forEach((b, i) => {
        assertFilled(b.subarray(0, 4 * MiB), i + 1, `read ${i}`);
        assert.is(b[4 * MiB], i < 7 ? i + 2 : 0);
      });
    });
  });
});

test('close() waits for the reads in flight, which complete; requests after it are refused', async () => {
  await withQcow2Image(32 * MiB, async (image, dir) => {
    qemuIo(image, 'write -P 0x3c 0 32M');
    const nbd = await startQemuNbd({ path: image, format: 'qcow2', readOnly: true, dir });
    try {
      const client = await NbdClient.connect(nbd.socket);
      const buffer = new Uint8Array(32 * MiB);
      const read = client.readInto(buffer, 0);
      await client.close();
      assert.is(await read, 32 * MiB);
      assertFilled(buffer, 0x3c, 'the read');
      assert.instance(await rejects(client.readInto(new Uint8Array(1), 0)), NbdError);
    } finally {
      await nbd.stop();
    }
  });
});

test('simple replies (no structured replies asked for) carry reads, writes and flushes', async () => {
  await withQcow2Image(16 * MiB, async (image, dir) => {
    qemuIo(image, 'write -P 0x42 2M 64k');
    await served(image, dir, { readOnly: false, structuredReplies: false }, async (client) => {
      const buffer = new Uint8Array(9 * MiB).fill(0xff);
      assert.is(await client.readInto(buffer, 0), 9 * MiB);
      assertFilled(buffer.subarray(2 * MiB, 2 * MiB + 64 * KiB), 0x42, 'written');
      assertFilled(buffer.subarray(0, 2 * MiB), 0, 'hole');
      await client.write(8 * MiB, new Uint8Array(6 * MiB).fill(9));
      await client.flush();
      const back = new Uint8Array(6 * MiB);
      await client.readInto(back, 8 * MiB);
      assertFilled(back, 9, 'read back');
      const err = await rejects(client.blockStatus('base:allocation', 0, MiB));
      assert.instance(err, NbdError);
    });
  });
});

/** The extents of a dirty bitmap, as [offset, length, dirty] for short assertions. */
function dirty(extents: NbdExtent[]): Array<[number, number, boolean]> {
  return extents.map((e) => [e.offset, e.length, (e.flags & 1) === 1]);
}

test('a dirty bitmap shows exactly the clusters written through a writable export, and the rest clean', async () => {
  await withQcow2Image(64 * MiB, async (image, dir) => {
    qemuIo(image, 'write -P 1 0 8M'); // before the bitmap: not dirty
    execFileSync('qemu-img', ['bitmap', '--add', '--enable', image, 'swiftlet-a']);
    await served(image, dir, { readOnly: false }, async (client) => {
      await client.write(MiB, new Uint8Array(CLUSTER).fill(2)); // one whole cluster
      await client.write(10 * MiB + 100, new Uint8Array(10).fill(3)); // inside one cluster
      await client.write(20 * MiB - 10, new Uint8Array(20).fill(4)); // across two
      await client.flush();
    });
    const context = 'qemu:dirty-bitmap:swiftlet-a';
    await served(image, dir, { readOnly: true, bitmaps: ['swiftlet-a'], metaContexts: [context] }, async (client) => {
      assert.ok(client.contexts.has(context));
      const extents = await client.blockStatus(context, 0, client.size);
      assert.equal(dirty(extents), [
        [0, MiB, false],
        [MiB, CLUSTER, true],
        [MiB + CLUSTER, 9 * MiB - CLUSTER, false],
        [10 * MiB, CLUSTER, true],
        [10 * MiB + CLUSTER, 10 * MiB - 2 * CLUSTER, false],
        [20 * MiB - CLUSTER, 2 * CLUSTER, true],
        [20 * MiB + CLUSTER, 44 * MiB - CLUSTER, false],
      ]);
      // A range inside: extents are cut to it.
      assert.equal(dirty(await client.blockStatus(context, MiB + 4096, MiB)), [
        [MiB + 4096, CLUSTER - 4096, true],
        [MiB + CLUSTER, MiB - CLUSTER + 4096, false],
      ]);
    });
  });
});

test('a volume on a backing snapshot (qcow2 -b): reads see both layers, its bitmap only its own writes', async () => {
  await withQcow2Image(8 * MiB, async (base, dir) => {
    qemuIo(base, 'write -P 0x0b 0 2M');
    const overlay = join(dir, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', overlay]);
    execFileSync('qemu-img', ['bitmap', '--add', '--enable', overlay, 'swiftlet-a']);
    qemuIo(overlay, 'write -P 0x0c 1M 64k');
    const context = 'qemu:dirty-bitmap:swiftlet-a';
    await served(overlay, dir, { readOnly: true, bitmaps: ['swiftlet-a'], metaContexts: [context] }, async (client) => {
      const buffer = new Uint8Array(3 * MiB);
      await client.readInto(buffer, 0);
      assertFilled(buffer.subarray(0, MiB), 0x0b, 'the snapshot');
      assertFilled(buffer.subarray(MiB, MiB + CLUSTER), 0x0c, 'the volume');
      assertFilled(buffer.subarray(MiB + CLUSTER, 2 * MiB), 0x0b, 'the snapshot again');
      assertFilled(buffer.subarray(2 * MiB), 0, 'neither');
      assert.equal(dirty(await client.blockStatus(context, 0, client.size)), [
        [0, MiB, false],
        [MiB, CLUSTER, true],
        [MiB + CLUSTER, 7 * MiB - CLUSTER, false],
      ]);
    });
  });
});

test('two bitmaps exported at once (-B twice) each show their own writes', async () => {
  await withQcow2Image(16 * MiB, async (image, dir) => {
    execFileSync('qemu-img', ['bitmap', '--add', '--enable', image, 'swiftlet-a']);
    qemuIo(image, 'write -P 1 1M 64k');
    execFileSync('qemu-img', ['bitmap', '--add', '--enable', image, 'swiftlet-b']);
    qemuIo(image, 'write -P 1 4M 64k');
    const a = 'qemu:dirty-bitmap:swiftlet-a';
    const b = 'qemu:dirty-bitmap:swiftlet-b';
    await served(image, dir, { readOnly: true, bitmaps: ['swiftlet-a', 'swiftlet-b'], metaContexts: [a, b, 'base:allocation'] }, async (client) => {
      assert.equal([...client.contexts.keys()].sort(), ['base:allocation', a, b]);
      assert.equal(dirty(await client.blockStatus(a, 0, client.size)), [
        [0, MiB, false],
        [MiB, CLUSTER, true],
        [MiB + CLUSTER, 3 * MiB - CLUSTER, false],
        [4 * MiB, CLUSTER, true],
        [4 * MiB + CLUSTER, 12 * MiB - CLUSTER, false],
      ]);
      assert.equal(dirty(await client.blockStatus(b, 0, client.size)), [
        [0, 4 * MiB, false],
        [4 * MiB, CLUSTER, true],
        [4 * MiB + CLUSTER, 12 * MiB - CLUSTER, false],
      ]);
      // base:allocation: flags 3 (hole, zero) except where data was written.
      const allocation = await client.blockStatus('base:allocation', 0, client.size);
      assert.equal(
        allocation.filter((e) => e.flags === 0).map((e) => [e.offset, e.length]),
        [
          [MiB, CLUSTER],
          [4 * MiB, CLUSTER],
        ],
      );
    });
  });
});

test('a write on a read-only export is refused with EPERM', async () => {
  await withQcow2Image(4 * MiB, async (image, dir) => {
    await served(image, dir, { readOnly: true }, async (client) => {
      const err = await rejects(client.write(0, new Uint8Array(512)));
      assert.instance(err, NbdError);
      assert.is((err as NbdError).errnoName, 'EPERM');
      assert.is(((await rejects(client.writeZeroes(0, 512))) as NbdError).errnoName, 'EPERM');
    });
  });
});

test('a socket nobody serves: connect rejects with NbdError', async () => {
  const tmp = await makeTempDir('swiftlet-nbd-');
  try {
    const err = await rejects(NbdClient.connect(join(tmp.path, 'none.sock')));
    assert.instance(err, NbdError);
    assert.match((err as Error).message, 'none.sock');
  } finally {
    await tmp.remove();
  }
});

test('a server that goes away rejects what is in flight and what comes after', async () => {
  await withQcow2Image(64 * MiB, async (image, dir) => {
    const nbd: QemuNbd = await startQemuNbd({ path: image, format: 'qcow2', readOnly: true, dir });
    const client = await NbdClient.connect(nbd.socket);
    // The read in flight may finish before qemu-nbd ends, or fail with NbdError; the one after must fail.
    const inFlight = client.readInto(new Uint8Array(64 * MiB), 0).then(
      () => undefined,
      (err: unknown) => err,
    );
    await nbd.stop();
    const first = await inFlight;
    if (first !== undefined) assert.instance(first, NbdError);
    assert.instance(await rejects(client.readInto(new Uint8Array(10), 0)), NbdError);
    await client.close();
  });
});

test.run();
