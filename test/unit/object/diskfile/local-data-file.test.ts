import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashPath } from '../../../../common/hash-path.ts';
import type { LocalBodyReader } from '../../../../common/http/local-file-read.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { Timestamp } from '../../../../common/timestamp.ts';
import { AlignedSlabs } from '../../../../object/diskfile/aligned-slabs.ts';
import { FsDiskFileManager } from '../../../../object/diskfile/fs.ts';
import { LocalFileMismatch, openLocalDataFile } from '../../../../object/diskfile/local-data-file.ts';
import { DiskLocalDataFiles } from '../../../../object/diskfile/local-data-files.ts';
import type { LocalObjectFile, ObjectReader } from '../../../../object/diskfile/types.ts';
import { putObject } from '../../../conformance/diskfile.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** An object written by an object server's manager, and the data file its reader names. */
async function written(size: number): Promise<{ body: Buffer; named: LocalObjectFile; cleanup(): Promise<void> }> {
  const dir = await makeTempDir();
  await mkdir(join(dir.path, 'sda'));
  const manager = new FsDiskFileManager({ devices: dir.path, mountCheck: false, hashPath: new HashPath('', 'test'), clock: new ManualClock(), logger: nullLogger });
  const body = randomBytes(size);
  const df = await manager.diskFile({ device: 'sda', partition: 3, account: 'a', container: 'c', object: 'o' });
  await putObject(df, body, Timestamp.parse(1_700_000_000));
  const reader = await df.open();
  const named = reader.localFile;
  await reader.close();
  assert.ok(named, 'a reader of a file on disk names it');
  return { body, named, cleanup: async () => {
      await manager.close();
      await dir.remove();
    },
  };
}

async function readAll(reader: Pick<ObjectReader, 'read' | 'close'> | LocalBodyReader, start = 0, end = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of reader.read(start, end, { lend: false })) parts.push(Buffer.from(part));
  await reader.close();
  return Buffer.concat(parts);
}

test('the file an object server named, opened by another reader: every byte, whole or a span, with or without O_DIRECT slabs', async () => {
  const { body, named, cleanup } = await written(5 * 1024 * 1024 + 3);
  try {
    assert.ok(named.path.startsWith('/'), 'an absolute path');
    assert.match(named.id, /^\d+:\d+$/);
    const slabs = new AlignedSlabs({ slabBytes: 1024 * 1024, count: 2 });
    assert.ok((await readAll(await openLocalDataFile(named, md5(body), slabs, 4 * 1024 * 1024))).equals(body));
    assert.ok((await readAll(await openLocalDataFile(named, md5(body), slabs, 4 * 1024 * 1024), 1_000_000, 3_500_000)).equals(body.subarray(1_000_000, 3_500_000)));
    assert.ok((await readAll(await openLocalDataFile(named, md5(body), undefined, 0))).equals(body));
    assert.ok(slabs.take() && slabs.take(), 'both slabs given back');
  } finally {
    await cleanup();
  }
});

test('another file at the named path (a new inode), another ETag, or no file: refused, nothing read', async () => {
  const { body, named, cleanup } = await written(2 * 1024 * 1024);
  try {
    await rejects(openLocalDataFile(named, md5(Buffer.from('other')), undefined, 0), (err: unknown) => err instanceof LocalFileMismatch);
    await copyFile(named.path, `${named.path}.new`);
    await rename(`${named.path}.new`, named.path);
    await rejects(openLocalDataFile(named, md5(body), undefined, 0), (err: unknown) => err instanceof LocalFileMismatch);
    await rejects(openLocalDataFile({ ...named, path: `${named.path}.gone` }, md5(body), undefined, 0), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT');
  } finally {
    await cleanup();
  }
});

test('a process out of slabs for another large read stops asking for local reads until one ends (the object server reads with its own), and never asks another machine', async () => {
  const { body, named, cleanup } = await written(5 * 1024 * 1024);
  try {
    const files = new DiskLocalDataFiles({ clock: new ManualClock(), logger: nullLogger, slabs: 2 });
    assert.ok(files.isLocal({ ip: '127.0.0.1' }));
    assert.not.ok(files.isLocal({ ip: '203.0.113.9' }));
    const reader = await files.open({ ...named, length: body.length }, md5(body));
    assert.not.ok(files.isLocal({ ip: '127.0.0.1' }), 'both slabs in use');
    assert.ok((await readAll(reader)).equals(body));
    assert.ok(files.isLocal({ ip: '127.0.0.1' }), 'given back at the end of the read');
  } finally {
    await cleanup();
  }
});

test('a process that keeps failing to open the files it is named (it does not see the devices) stops asking for a minute; a failure among successes (a write racing the read) does not', async () => {
  const { body, named, cleanup } = await written(2 * 1024 * 1024);
  try {
    const clock = new ManualClock();
    const files = new DiskLocalDataFiles({ clock, logger: nullLogger });
    const local = { ip: '127.0.0.1' };
    const gone = { ...named, path: `${named.path}.gone`, length: body.length };
    const good = { ...named, length: body.length };
    await rejects(files.open(gone, md5(body)));
    await rejects(files.open(gone, md5(body)));
    await (await files.open(good, md5(body))).close();
    await rejects(files.open(gone, md5(body)));
    assert.ok(files.isLocal(local), 'one failure in a row after a success');
    await rejects(files.open(gone, md5(body)));
    await rejects(files.open(gone, md5(body)));
    assert.not.ok(files.isLocal(local), 'three in a row');
    clock.advance(59_000);
    assert.not.ok(files.isLocal(local));
    clock.advance(1_000);
    assert.ok(files.isLocal(local), 'asked again after a minute');
  } finally {
    await cleanup();
  }
});

test.run();
