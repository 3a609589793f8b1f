/**
 * An image upload against the cluster's own large PUT (issue 17's goal: within 10%), by rate
 * and by what each process spends per GiB, which holds on a busy machine where rates do not:
 * a fresh `swiftlet aio --no-daemons`, then `--rounds` times, alternating, one `curl -T FILE`
 * to the proxy (`test:tester`, one object) and one to `PUT /v2/images/ID/file` (admin
 * cloud, sized). For each: MB/s as curl saw it, CPU seconds (user + system) per GiB of the
 * image process, the proxy (with its workers) and the storage processes, page faults, and
 * with `--trace-gc` the full (mark-compact) collections of each (counted in their logs).
 * With `--download`, the object and the image are also read back (`curl` to /dev/null), measured
 * the same way. Each image must end `active` with the file's size, MD5 and SHA-512; both are deleted after
 * their round.
 *
 *   node bench/image-upload-cost.ts [--file F | --size-mib 1024] [--rounds 2] [--trace-gc]
 *       [--download] [--port P] [--storage-port-base B] [--identity-port ..] [--image-port ..]
 *       [--network-port ..] [--compute-port ..] [--volume-port ..] [--data DIR]
 *
 * Ports are free ones unless given (the services take the five after the proxy's). A file
 * not given is made of random bytes in the data directory, which is left in place.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { splitArgs } from '../common/cli-args.ts';
import { cloudLogin } from './cloud-session.ts';
import { freePort, freePortBase } from './free-port.ts';
import { type ProcessSample, sampleProcesses, withChildren } from './process-sample.ts';

const SWIFTLET = join(import.meta.dirname, '../cli/swiftlet.ts');
const PORT_FLAGS = ['identity-port', 'image-port', 'network-port', 'compute-port', 'volume-port'] as const;
const { flags } = splitArgs(process.argv.slice(2), new Set(['port', 'storage-port-base', 'data', 'file', 'size-mib', 'rounds', ...PORT_FLAGS]));
const port = Number(flags.get('port') ?? (await freePort()));
const portBase = Number(flags.get('storage-port-base') ?? (await freePortBase()));
const data = flags.get('data') ?? join(tmpdir(), `swiftlet-image-cost-${Date.now()}`);
const rounds = Number(flags.get('rounds') ?? 2);
const traceGc = flags.has('trace-gc');
const download = flags.has('download');
const servicePorts = PORT_FLAGS.map((f, i) => Number(flags.get(f) ?? port + 1 + i));
const imagePort = servicePorts[1] as number;
const run = promisify(execFile);

/** Random bytes in a file, written in pieces (never the whole in memory). */
async function makeFile(path: string, bytes: number): Promise<void> {
  const piece = 8 * 1_048_576;
  await pipeline(async function* () {
    for (let left = bytes; left > 0; left -= piece) yield randomBytes(Math.min(piece, left));
  }, createWriteStream(path));
}

async function fileHashes(path: string): Promise<{ md5: string; sha512: string }> {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  for await (const chunk of createReadStream(path, { highWaterMark: 1_048_576 })) {
    md5.update(chunk as Buffer);
    sha512.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha512: sha512.digest('hex') };
}

/** `curl url` to /dev/null: the download rate curl measured, in MB/s; throws unless 200. */
async function curlGet(url: string, headers: Record<string, string>): Promise<number> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{speed_download}', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url]);
  const [status, speed] = stdout.trim().split(' ');
  if (Number(status) !== 200) throw new Error(`GET ${url}: ${status}`);
  return Number(speed) / 1e6;
}

/** `curl -T file url`: the upload rate curl measured, in MB/s; throws unless `expected` answered. */
async function curlPut(file: string, url: string, headers: Record<string, string>, expected: number): Promise<number> {
  const args = ['-s', '-o', '/dev/null', '-w', '%{http_code} %{speed_upload}', '-X', 'PUT', '-T', file, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  const { stdout } = await run('curl', args);
  const [status, speed] = stdout.trim().split(' ');
  if (Number(status) !== expected) throw new Error(`PUT ${url}: ${status}`);
  return Number(speed) / 1e6;
}

async function waitReady(child: ChildProcess): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (/^ready:/m.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`aio exited (${code}):\n${out.slice(-2000)}`)));
  });
}

/** Full collections so far in a process's log (`--trace-gc` lines). */
async function markCompacts(log: string): Promise<number> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text.match(/Mark-Compact/g)?.length ?? 0;
}

async function main(): Promise<void> {
  const args = ['aio', '--data', data, '--port', String(port), '--storage-port-base', String(portBase), '--no-daemons', ...PORT_FLAGS.flatMap((f, i) => [`--${f}`, String(servicePorts[i])])];
  // `--trace-gc` is refused in NODE_OPTIONS; a module imported first sets it in every process.
  let env = process.env;
  if (traceGc) {
    await mkdir(data, { recursive: true });
    const setter = join(data, 'trace-gc.mjs');
    await writeFile(setter, "import { setFlagsFromString } from 'node:v8';\nsetFlagsFromString('--trace-gc');\n");
    env = { ...process.env, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${pathToFileURL(setter).href}`.trim() };
  }
  const aio = spawn(process.execPath, [SWIFTLET, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  try {
    await waitReady(aio);
    let file = flags.get('file');
    if (file === undefined) {
      file = join(data, 'upload.bin');
      await makeFile(file, Number(flags.get('size-mib') ?? 1024) * 1_048_576);
    }
    const size = statSync(file).size;
    const gib = size / 2 ** 30;
    const want = await fileHashes(file);
    const runDir = join(data, 'run');
    const names = (await readdir(runDir)).filter((f) => /^(storage\d+|proxy|image)\.pid$/.test(f)).map((f) => f.slice(0, -4));
    const groups = new Map<string, { pids: number[]; logs: string[] }>([['image', { pids: [], logs: [] }], ['proxy', { pids: [], logs: [] }], ['storage', { pids: [], logs: [] }]]);
    for (const name of names) {
      const group = groups.get(name.startsWith('storage') ? 'storage' : name) as { pids: number[]; logs: string[] };
      group.pids.push(...(await withChildren(Number(await readFile(join(runDir, `${name}.pid`), 'utf8')))));
      group.logs.push(join(data, 'log', `${name}.log`));
    }
    const auth = await fetch(`http://127.0.0.1:${port}/auth/v1.0`, { headers: { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' } });
    const v1 = { token: auth.headers.get('x-auth-token') as string, url: auth.headers.get('x-storage-url') as string };
    await fetch(`${v1.url}/image-cost`, { method: 'PUT', headers: { 'x-auth-token': v1.token } });
    const cloud = await cloudLogin(join(data, 'etc', 'clouds.yaml'), 'swiftlet-admin');
    const imageUrl = `http://127.0.0.1:${imagePort}`;
    console.log(`# ${new Date().toISOString()} load ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}; ${(size / 1_048_576).toFixed(0)} MiB; ${[...groups].map(([n, g]) => `${n}=${g.pids.join('+')}`).join(' ')}`);
    const measure = async (label: string, put: () => Promise<number>): Promise<void> => {
      const before = new Map<string, { cpu: ProcessSample; gcs: number }>();
      for (const [n, g] of groups) before.set(n, { cpu: await sampleProcesses(g.pids), gcs: (await Promise.all(g.logs.map(markCompacts))).reduce((a, b) => a + b, 0) });
      const rate = await put();
      const cells: string[] = [];
      for (const [n, g] of groups) {
        const a = before.get(n) as { cpu: ProcessSample; gcs: number };
        const b = await sampleProcesses(g.pids);
        const gcs = (await Promise.all(g.logs.map(markCompacts))).reduce((x, y) => x + y, 0) - a.gcs;
        const cpu = (b.user - a.cpu.user + b.sys - a.cpu.sys) / gib;
        cells.push(`${n} ${cpu.toFixed(2)} s (sys ${((b.sys - a.cpu.sys) / gib).toFixed(2)}, faults ${((b.minflt - a.cpu.minflt) / gib).toFixed(0)}${traceGc ? `, full GCs ${(gcs / gib).toFixed(0)}` : ''})`);
      }
      console.log(`${label.padEnd(22)} ${rate.toFixed(1).padStart(6)} MB/s; per GiB: ${cells.join('; ')}`);
    };
    for (let r = 1; r <= rounds; r++) {
      await measure(`round ${r}: cluster PUT`, () => curlPut(file, `${v1.url}/image-cost/o${r}`, { 'x-auth-token': v1.token }, 201));
      if (download) await measure(`round ${r}: cluster GET`, () => curlGet(`${v1.url}/image-cost/o${r}`, { 'x-auth-token': v1.token }));
      // Three replicas of each: give the disk back before the next upload.
      await fetch(`${v1.url}/image-cost/o${r}`, { method: 'DELETE', headers: { 'x-auth-token': v1.token } });
      const created = await fetch(`${imageUrl}/v2/images`, { method: 'POST', headers: { 'x-auth-token': cloud.token, 'content-type': 'application/json' }, body: JSON.stringify({ name: `cost-${r}`, disk_format: 'raw', container_format: 'bare' }) });
      const id = ((await created.json()) as { id: string }).id;
      await measure(`round ${r}: image upload`, () => curlPut(file, `${imageUrl}/v2/images/${id}/file`, { 'x-auth-token': cloud.token, 'content-type': 'application/octet-stream' }, 204));
      const image = (await (await fetch(`${imageUrl}/v2/images/${id}`, { headers: { 'x-auth-token': cloud.token } })).json()) as { status: string; size: number; checksum: string; os_hash_value: string };
      if (image.status !== 'active' || image.size !== size || image.checksum !== want.md5 || image.os_hash_value !== want.sha512) throw new Error(`image ${id}: ${JSON.stringify(image)}`);
      if (download) await measure(`round ${r}: image download`, () => curlGet(`${imageUrl}/v2/images/${id}/file`, { 'x-auth-token': cloud.token }));
      await fetch(`${imageUrl}/v2/images/${id}`, { method: 'DELETE', headers: { 'x-auth-token': cloud.token } });
    }
  } finally {
    const exited = new Promise((r) => aio.once('exit', r));
    aio.kill('SIGTERM');
    await exited;
    console.log(`# data left in ${data}`);
  }
}

await main();
