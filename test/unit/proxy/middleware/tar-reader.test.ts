import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTar, TarError } from '../../../../proxy/middleware/tar-reader.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { tarArchive, tarMember } from '../../../helpers/tar-builder.ts';

async function* chunked(data: Buffer, size = 700): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function members(data: Buffer, readData = true): Promise<Array<{ name: string; size: number; isFile: boolean; pax: Record<string, string>; body: string }>> {
  const out = [];
  for await (const entry of readTar(chunked(data))) {
    let body = '';
    if (readData) for await (const chunk of entry.data) body += Buffer.from(chunk).toString('latin1');
    out.push({ name: entry.name.toString('latin1'), size: entry.size, isFile: entry.isFile, pax: { ...entry.pax }, body });
  }
  return out;
}

test('files, directories, ustar prefix, pax path and xattrs, data across chunks', async () => {
  const big = 'x'.repeat(3000);
  const archive = tarArchive(
    tarMember('dir/', '', { type: '5' }),
    tarMember('dir/a.txt', 'hello'),
    tarMember('b.bin', big),
    tarMember('c.txt', 'prefixed', { prefix: 'deep/path' }),
    tarMember('ignored', 'long', { pax: { path: `${'n'.repeat(150)}/ünï`, 'SCHILY.xattr.user.mime_type': 'text/x-a' } }),
  );
  const got = await members(archive);
  assert.equal(got.map((m) => [m.name, m.size, m.isFile]), [['dir/', 0, false], ['dir/a.txt', 5, true], ['b.bin', 3000, true], ['deep/path/c.txt', 8, true], [`${'n'.repeat(150)}/${Buffer.from('ünï').toString('latin1')}`, 4, true]]);
  assert.is(got[1]?.body, 'hello');
  assert.is(got[2]?.body, big);
  assert.is(got[4]?.pax['SCHILY.xattr.user.mime_type'], 'text/x-a');
});

test('data a consumer does not read is skipped', async () => {
  const archive = tarArchive(tarMember('a', 'x'.repeat(1500)), tarMember('b', 'second'));
  const names: string[] = [];
  for await (const entry of readTar(chunked(archive))) {
    names.push(entry.name.toString());
    if (entry.name.toString() === 'b') for await (const chunk of entry.data) assert.is(Buffer.from(chunk).toString(), 'second');
  }
  assert.equal(names, ['a', 'b']);
});

test('errors as tarfile reports them; a zero block or later garbage ends the archive', async () => {
  assert.is(((await rejects(members(Buffer.alloc(0)), TarError)) as Error).message, 'empty file');
  assert.is(((await rejects(members(Buffer.from('not a tar file at all'.repeat(30))), TarError)) as Error).message, 'invalid header');
  const bad = tarMember('a', 'x');
  bad[0] = 0x62;
  assert.is(((await rejects(members(bad), TarError)) as Error).message, 'bad checksum');
  const cut = tarMember('a', 'x'.repeat(2000)).subarray(0, 1024);
  assert.is(((await rejects(members(cut), TarError)) as Error).message, 'unexpected end of data');
  assert.equal(await members(Buffer.alloc(1024)), []);
  const garbageAfter = Buffer.concat([tarMember('a', 'ok'), Buffer.from('garbage'.repeat(100))]);
  assert.equal((await members(garbageAfter)).map((m) => m.name), ['a']);
});

test('reads what GNU tar writes (long names, pax format)', async () => {
  let available = true;
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
  } catch {
    available = false;
  }
  if (!available) return;
  const dir = mkdtempSync(join(tmpdir(), 'tar-reader-'));
  try {
    const long = `${'d'.repeat(90)}/${'f'.repeat(90)}.txt`;
    mkdirSync(join(dir, 'src', 'd'.repeat(90)), { recursive: true });
    writeFileSync(join(dir, 'src', long), 'long name');
    writeFileSync(join(dir, 'src', 'ünï.txt'), 'utf8');
    for (const format of ['gnu', 'pax', 'ustar']) {
      const archive = execFileSync('tar', [`--format=${format}`, '-C', join(dir, 'src'), '-cf', '-', '.'], { maxBuffer: 1 << 24 });
      const files = (await members(archive)).filter((m) => m.isFile);
      const byName = Object.fromEntries(files.map((m) => [Buffer.from(m.name, 'latin1').toString('utf8'), m.body]));
      assert.is(byName[`./${long}`], 'long name', format);
      assert.is(byName['./ünï.txt'], 'utf8', format);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
