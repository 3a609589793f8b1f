import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { open, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashPath } from '../../../../common/hash-path.ts';
import { BlockChecksumsHash, FOOTER_BLOCK_BYTES } from '../../../../common/http/put-footer.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { Timestamp } from '../../../../common/timestamp.ts';
import { asNoSpace, DiskFileNoSpace } from '../../../../object/diskfile/errors.ts';
import type { FileSink } from '../../../../object/diskfile/file-sinks.ts';
import { HEADER_SIZE } from '../../../../object/diskfile/format.ts';
import { FsObjectWriter } from '../../../../object/diskfile/fs-writer.ts';
import { FsDiskFileManager } from '../../../../object/diskfile/fs.ts';
import type { ObjectLocation } from '../../../../object/diskfile/types.ts';
import { diskFileSuite, putObject } from '../../../conformance/diskfile.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

const hashPath = new HashPath('', 'test');

/** Whether files under `dir` can be opened with O_DIRECT (tmpfs cannot). */
function directIo(dir: string): boolean {
  try {
    closeSync(openSync(join(dir, 'direct-probe'), constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  }
}

/** The object's bytes as a reader gives them (every block checked against its checksum). */
async function readBack(df: { open(): Promise<{ read(): AsyncIterable<Uint8Array>; close(): Promise<void> }> }): Promise<Buffer> {
  const reader = await df.open();
  const parts: Buffer[] = [];
  for await (const part of reader.read()) parts.push(Buffer.from(part));
  await reader.close();
  return Buffer.concat(parts);
}

async function harness() {
  const dir = await makeTempDir();
  await mkdir(join(dir.path, 'sda'));
  const clock = new ManualClock();
  const manager = new FsDiskFileManager({ devices: dir.path, mountCheck: false, hashPath, clock, logger: nullLogger });
  const hashDir = (loc: ObjectLocation): string => {
    const hash = hashPath.hash(loc.account, loc.container, loc.object);
    return join(dir.path, loc.device, 'objects', String(loc.partition), hash.slice(-3), hash);
  };
  return { dir, clock, manager, hashDir };
}

diskFileSuite('fs', async () => {
  const { dir, clock, manager, hashDir } = await harness();
  return {
    manager,
    clock,
    device: 'sda',
    missingDevice: 'sdz',
    async corrupt(loc, offset) {
      const files = (await readdir(hashDir(loc))).filter((f) => f.endsWith('.data'));
      const handle = await open(join(hashDir(loc), files[0] as string), 'r+');
      // Data byte n sits after the header and one 8-byte checksum per earlier 64 KiB block.
      const at = offset === 'header' ? 20 : HEADER_SIZE + offset + Math.floor(offset / 65_536) * 8;
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, at);
      byte[0] = (byte[0] as number) ^ 0xff;
      await handle.write(byte, 0, 1, at);
      await handle.close();
    },
    cleanup: () => dir.remove(),
  };
});

test('files land where Swift puts them, and quarantined ones under quarantined/objects', async () => {
  const { dir, manager, hashDir } = await harness();
  try {
    const loc = { device: 'sda', partition: 3, account: 'AUTH_a', container: 'c', object: 'dir/o' };
    const df = await manager.diskFile(loc);
    await putObject(df, Buffer.from('hello'), Timestamp.parse('1700000000.5'), {}, '/AUTH_a/c/dir/o');
    assert.equal(await readdir(hashDir(loc)), ['1700000000.50000.data']);
    assert.match(hashDir(loc), new RegExp(`/sda/objects/3/${df.hash.slice(-3)}/${df.hash}$`));
    await manager.quarantineByHash('sda', 3, df.hash, 'test');
    assert.equal(await readdir(join(dir.path, 'sda', 'quarantined', 'objects', df.hash)), ['1700000000.50000.data']);
    assert.is(manager.quarantinedCount, 1);
  } finally {
    await dir.remove();
  }
});

test('temp files left by a dead process are cleaned at start; a live process keeps its own', async () => {
  const { dir, manager } = await harness();
  try {
    const tmp = join(dir.path, 'sda', 'tmp');
    await mkdir(tmp, { recursive: true });
    await (await open(join(tmp, '999999999.deadbeef.tmp'), 'w')).close();
    // Our parent (the test runner) is alive: its temp file is someone's upload in progress.
    await (await open(join(tmp, `${process.ppid}.cafebabe.tmp`), 'w')).close();
    assert.is(await manager.cleanupTempFiles(), 1);
    assert.equal(await readdir(tmp), [`${process.ppid}.cafebabe.tmp`]);
  } finally {
    await dir.remove();
  }
});

test('obsolete files are removed when a newer version is written', async () => {
  const { dir, manager, hashDir } = await harness();
  try {
    const loc = { device: 'sda', partition: 1, account: 'a', container: 'c', object: 'o' };
    const df = await manager.diskFile(loc);
    await putObject(df, Buffer.from('one'), Timestamp.parse(1));
    await df.writeMetadata({ 'X-Timestamp': Timestamp.parse(2).internal });
    await putObject(df, Buffer.from('two'), Timestamp.parse(3));
    assert.equal(await readdir(hashDir(loc)), ['0000000003.00000.data']);
    await df.delete(Timestamp.parse(4));
    assert.equal(await readdir(hashDir(loc)), ['0000000004.00000.ts']);
  } finally {
    await dir.remove();
  }
});

test('a large upload gives each received chunk back once it is on its way to disk, and reads back exactly (nodes held 140 MB of dead chunks between collections)', async () => {
  const { dir, manager } = await harness();
  try {
    const df = await manager.diskFile({ device: 'sda', partition: 1, account: 'a', container: 'c', object: 'big' });
    const body = randomBytes(3 * 1024 * 1024 + 777);
    const writer = await df.create(body.length);
    // Chunks as a socket delivers them: each its own memory, sizes that straddle blocks.
    const chunks: Buffer[] = [];
    for (let at = 0, i = 0; at < body.length; i++) {
      const chunk = Buffer.from(body.subarray(at, at + 40_000 + (i % 3) * 30_000));
      at += chunk.length;
      chunks.push(chunk);
      await writer.write(chunk);
    }
    await writer.commit({ name: '/a/c/big', 'X-Timestamp': Timestamp.parse(1).internal, 'Content-Length': String(body.length), ETag: createHash('md5').update(body).digest('hex') });
    // Through O_DIRECT the writer copies, so every chunk is released; through the page cache
    // (a file system without O_DIRECT, like tmpfs) it writes from the chunks and keeps them.
    const released = chunks.filter((c) => c.length === 0).length;
    assert.is(released, directIo(dir.path) ? chunks.length : 0);
    assert.ok((await readBack(df)).equals(body));
  } finally {
    await dir.remove();
  }
});

test("a writer's digest of its block checksums is what the proxy's footer computes from the body, through O_DIRECT and the page cache, so the body needs no second hash", async () => {
  const { dir, manager } = await harness();
  try {
    for (const size of [3 * 1024 * 1024 + 777, 2 * 65536, 200_000, 0]) {
      const body = randomBytes(size);
      const proxy = new BlockChecksumsHash(FOOTER_BLOCK_BYTES);
      proxy.update(body);
      const df = await manager.diskFile({ device: 'sda', partition: 1, account: 'a', container: 'c', object: `o${size}` });
      const writer = await df.create(body.length);
      assert.is(writer.digestBlockChecksums?.(4096), undefined, 'blocks of another size');
      const digest = writer.digestBlockChecksums?.(FOOTER_BLOCK_BYTES);
      for (let at = 0, i = 0; at < body.length; i++) {
        const chunk = Buffer.from(body.subarray(at, at + 40_000 + (i % 3) * 30_000));
        at += chunk.length;
        await writer.write(chunk);
      }
      assert.is(digest?.(), proxy.digestHex(), `${size} bytes`);
      await writer.commit({ name: `/a/c/o${size}`, 'X-Timestamp': Timestamp.parse(1).internal, 'Content-Length': String(body.length), ETag: createHash('md5').update(body).digest('hex') });
      // The blocks stored are the ones digested: a read checks every one.
      assert.ok((await readBack(df)).equals(body));
    }
  } finally {
    await dir.remove();
  }
});

test('a lending read of a large object hands out chunks from two buffers in turn, each intact until the next is asked for (a fresh 1 MiB copy per read made a major GC every ~60 MB served)', async () => {
  const { dir, manager } = await harness();
  try {
    const df = await manager.diskFile({ device: 'sda', partition: 1, account: 'a', container: 'c', object: 'lent' });
    const body = randomBytes(6 * 1024 * 1024 + 4321);
    await putObject(df, body, Timestamp.parse(1), {}, '/a/c/lent');
    const direct = directIo(dir.path);
    for (const [start, end] of [[0, body.length], [123_457, 5_000_001]] as const) {
      const reader = await df.open();
      assert.is(reader.lends, direct);
      const md5 = createHash('md5');
      const memory = new Set<ArrayBufferLike>();
      let bytes = 0;
      // Used the way the HTTP server uses them: each chunk is done with before the next.
      for await (const chunk of reader.read(start, end, { lend: true })) {
        md5.update(chunk);
        memory.add(chunk.buffer);
        bytes += chunk.length;
      }
      await reader.close();
      assert.is(bytes, end - start);
      assert.is(md5.digest('hex'), createHash('md5').update(body.subarray(start, end)).digest('hex'), `bytes ${start}-${end}`);
      // Through O_DIRECT the chunks lie in the reader's two slabs (one memory); through the
      // page cache each read has its own buffer.
      if (direct) assert.is(memory.size, 1, 'no buffer allocated per read');
    }
    const copied = await df.open();
    const kept: Buffer[] = [];
    for await (const chunk of copied.read()) kept.push(chunk);
    await copied.close();
    assert.ok(Buffer.concat(kept).equals(body), 'a read that does not lend gives chunks of their own');
  } finally {
    await dir.remove();
  }
});

test('regression: a full device while writing (ENOSPC in a write, the final flush, or the rename into place) is DiskFileNoSpace, which servers answer 507; other errors stay as they are', async () => {
  const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const sink = (failAt: 'append' | 'finish' | 'never', err: () => Error): FileSink => ({
    copies: true,
    gatherBytes: 0,
    async append() {
      if (failAt === 'append') throw err();
    },
    async finish() {
      if (failAt === 'finish') throw err();
    },
    close() {},
  });
  const translate = (e: unknown): unknown => asNoSpace('sda', e);
  const metadata = { name: '/a/c/o', 'X-Timestamp': Timestamp.parse(1).internal, 'Content-Length': '10', ETag: createHash('md5').update(Buffer.alloc(10)).digest('hex') };
  const published = async (): Promise<void> => {};
  await new FsObjectWriter(sink('append', enospc), '/nonexistent/tmp', 65_536, published, translate).write(Buffer.alloc(10)).then(
    () => assert.unreachable('written'),
    (err: unknown) => assert.instance(err, DiskFileNoSpace),
  );
  const flushing = new FsObjectWriter(sink('finish', enospc), '/nonexistent/tmp', 65_536, published, translate);
  await flushing.write(Buffer.alloc(10));
  await flushing.commit(metadata).then(() => assert.unreachable('committed'), (err: unknown) => assert.instance(err, DiskFileNoSpace));
  const renaming = new FsObjectWriter(sink('never', enospc), '/nonexistent/tmp', 65_536, async () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, mkdir'), { code: 'ENOSPC' });
  }, translate);
  await renaming.write(Buffer.alloc(10));
  await renaming.commit(metadata).then(() => assert.unreachable('committed'), (err: unknown) => assert.instance(err, DiskFileNoSpace));
  const eio = (): Error => Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
  await new FsObjectWriter(sink('append', eio), '/nonexistent/tmp', 65_536, published, translate).write(Buffer.alloc(10)).then(
    () => assert.unreachable('written'),
    (err: unknown) => assert.is((err as NodeJS.ErrnoException).code, 'EIO'),
  );
});

test('a finished temp file that cannot be put in place (its object directory cannot be made) is removed, for data and tombstones alike', async () => {
  const { dir, manager, hashDir } = await harness();
  try {
    const loc = { device: 'sda', partition: 1, account: 'a', container: 'c', object: 'blocked' };
    // A file where the object's suffix directory belongs: making the object's directory fails.
    await mkdir(dirname(dirname(hashDir(loc))), { recursive: true });
    await writeFile(dirname(hashDir(loc)), 'in the way');
    const df = await manager.diskFile(loc);
    const body = Buffer.from('blocked');
    const writer = await df.create(body.length);
    await writer.write(Buffer.from(body));
    await writer.commit({ name: '/a/c/blocked', 'X-Timestamp': Timestamp.parse(1).internal, 'Content-Length': String(body.length), ETag: createHash('md5').update(body).digest('hex') }).then(
      () => assert.unreachable('committed'),
      () => undefined,
    );
    assert.equal(await readdir(join(dir.path, 'sda', 'tmp')), [], 'the data temp file is removed');
    await df.delete(Timestamp.parse(2)).then(() => assert.unreachable('deleted'), () => undefined);
    assert.equal(await readdir(join(dir.path, 'sda', 'tmp')), [], 'the tombstone temp file is removed');
  } finally {
    await dir.remove();
  }
});

test.run();
