import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { httpRequest } from '../helpers/http.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

const script = join(import.meta.dirname, '../helpers/object-server-process.ts');
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const OBJ = '/sda/3/AUTH_a/c/big';

async function start(devices: string): Promise<{ child: ChildProcess; port: number; cleaned: number }> {
  const child = spawn(process.execPath, [script, devices], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out);
    });
    child.on('exit', (code) => reject(new Error(`object server exited with ${code}`)));
  });
  const m = /listening (\d+) cleaned (\d+)/.exec(line);
  return { child, port: Number(m?.[1]), cleaned: Number(m?.[2]) };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Starts a PUT of `total` bytes, sends `sendFirst` of them, then waits for the caller to kill the server. */
function partialPut(port: number, total: number, sendFirst: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: OBJ, agent: false, headers: { 'X-Timestamp': '1700000002.00000', 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) } });
    req.on('error', () => resolve());
    req.write(sendFirst, () => resolve());
  });
}

test('killing the object server in the middle of a large PUT leaves the old object, never a torn one', async () => {
  const dir = await makeTempDir();
  let server = await start(dir.path).catch(async (err) => {
    await dir.remove();
    throw err;
  });
  try {
    await mkdir(join(dir.path, 'sda'), { recursive: true });
    const old = randomBytes(1024 * 1024);
    const put = await httpRequest(server.port, 'PUT', OBJ, { 'X-Timestamp': '1700000001.00000', 'Content-Type': 'application/octet-stream' }, old);
    assert.is(put.status, 201);

    // 32 MiB announced, 12 MiB sent, then the process dies with the temp file half written.
    await partialPut(server.port, 32 * 1024 * 1024, randomBytes(12 * 1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok((await readdir(join(dir.path, 'sda', 'tmp'))).length > 0, 'the upload was in progress');
    await kill(server.child);

    server = await start(dir.path);
    assert.is(server.cleaned, 1, 'the half-written temp file is cleaned at start');
    assert.equal(await readdir(join(dir.path, 'sda', 'tmp')), []);
    const get = await httpRequest(server.port, 'GET', OBJ);
    assert.is(get.status, 200);
    assert.is(md5(get.body), md5(old));
    assert.is(get.headers['x-timestamp'], '1700000001.00000');
  } finally {
    await kill(server.child);
    await dir.remove();
  }
});

test('killed right after the last byte: the object is the old one or the new one, whole', async () => {
  const dir = await makeTempDir();
  await mkdir(join(dir.path, 'sda'), { recursive: true });
  let server = await start(dir.path);
  try {
    const old = randomBytes(256 * 1024);
    assert.is((await httpRequest(server.port, 'PUT', OBJ, { 'X-Timestamp': '1700000001.00000', 'Content-Type': 'application/octet-stream' }, old)).status, 201);
    const fresh = randomBytes(8 * 1024 * 1024);
    await partialPut(server.port, fresh.length, fresh);
    await kill(server.child);
    server = await start(dir.path);
    const get = await httpRequest(server.port, 'GET', OBJ);
    assert.is(get.status, 200);
    assert.ok([md5(old), md5(fresh)].includes(md5(get.body)), 'a torn object was served');
    assert.is(get.headers['etag'], md5(get.body));
  } finally {
    await kill(server.child);
    await dir.remove();
  }
});

test.run();
