/**
 * What writes and reads cost the cluster's processes, in numbers that hold on a busy machine:
 * CPU seconds (user and system) per GiB of large objects and per 1,000 small ones, page
 * faults, and each process's resident peak (VmHWM), for the proxy (with its workers) and
 * each storage process of a fresh `swiftlet aio --no-daemons`. Rates are printed too, but on
 * a shared machine they are noise; the CPU and memory numbers are not.
 *
 *   npm run bench:write-cost -- [--port P] [--storage-port-base B] [--data DIR]
 *       [--large-mb 64] [--large-count 8] [--parallel 4] [--small-count 2000] [--small-size 4096]
 *       [--concurrency 32] [--phases large-put,large-put,large-get,small-put,small-get]
 *       [--storage-processes N]   (aio's default unless given; 4: one node per process, what one node costs)
 *
 * Ports are free ones unless given; the identity, image, network, compute and volume services
 * take the five ports after the proxy's. The data directory is left in place (deleting on this disk slows later writes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs } from '../common/cli-args.ts';
import { forEachPaced } from '../common/for-each-paced.ts';
import { systemClock } from '../common/clock.ts';
import { freePort, freePortBase } from './free-port.ts';
import { type ProcessSample, sampleProcesses, withChildren } from './process-sample.ts';

const SWIFTLET = join(import.meta.dirname, '../cli/swiftlet.ts');
const { flags } = splitArgs(process.argv.slice(2), new Set(['port', 'storage-port-base', 'data', 'large-mb', 'large-count', 'parallel', 'small-count', 'small-size', 'concurrency', 'phases', 'storage-processes']));
const port = Number(flags.get('port') ?? (await freePort()));
const portBase = Number(flags.get('storage-port-base') ?? (await freePortBase()));
const data = flags.get('data') ?? join(tmpdir(), `swiftlet-write-cost-${Date.now()}`);
const largeMb = Number(flags.get('large-mb') ?? 64);
const largeCount = Number(flags.get('large-count') ?? 8);
const parallel = Number(flags.get('parallel') ?? 4);
const smallCount = Number(flags.get('small-count') ?? 2000);
const smallSize = Number(flags.get('small-size') ?? 4096);
const concurrency = Number(flags.get('concurrency') ?? 32);
const phases = (flags.get('phases') ?? 'large-put,large-put,large-get,small-put,small-get').split(',');
const agent = new Agent({ keepAlive: true, maxSockets: Math.max(parallel, concurrency) });

function call(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitReady(child: ChildProcess): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (/^ready:/m.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`aio exited (${code}):\n${out}`)));
  });
}

async function main(): Promise<void> {
  const aio = spawn(process.execPath, [SWIFTLET, 'aio', '--data', data, '--port', String(port), '--storage-port-base', String(portBase), '--identity-port', String(port + 1), '--image-port', String(port + 2), '--network-port', String(port + 3), '--compute-port', String(port + 4), '--volume-port', String(port + 5), '--no-daemons', ...(flags.has('storage-processes') ? ['--storage-processes', String(flags.get('storage-processes'))] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await waitReady(aio);
    const { readdir } = await import('node:fs/promises');
    const names = (await readdir(join(data, 'run'))).filter((f) => /^(storage\d+|proxy)\.pid$/.test(f)).map((f) => f.slice(0, -4)).sort();
    const groups = new Map<string, number[]>();
    for (const name of names) groups.set(name, await withChildren(Number(await readFile(join(data, 'run', `${name}.pid`), 'utf8'))));
    const auth = await call('GET', '/auth/v1.0', { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' });
    const token = String(auth.headers['x-auth-token']);
    const account = new URL(String(auth.headers['x-storage-url'])).pathname;
    const h = { 'x-auth-token': token };
    await call('PUT', `${account}/large`, h);
    await call('PUT', `${account}/small`, h);
    const large = randomBytes(largeMb * 1024 * 1024);
    const small = randomBytes(smallSize);
    console.log(`# ${new Date().toISOString()} load ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}; ${[...groups].map(([n, p]) => `${n}=${p.join('+')}`).join(' ')}`);
    for (const [n, pids] of groups) {
      const idle = await sampleProcesses(pids);
      console.log(`  ${n.padEnd(9)} before any load: rss ${(idle.rssKb / 1024).toFixed(0)} MB  peak ${(idle.hwmKb / 1024).toFixed(0)} MB`);
    }
    let largeRound = 0;
    let smallRound = 0;
    for (const phase of phases) {
      const before = new Map<string, ProcessSample>();
      for (const [n, pids] of groups) before.set(n, await sampleProcesses(pids));
      const t0 = performance.now();
      let units: number;
      let unitName: string;
      if (phase === 'large-put' || phase === 'large-get') {
        if (phase === 'large-put') largeRound += 1;
        const prefix = `r${Math.max(largeRound, 1)}-`;
        const objs = Array.from({ length: largeCount }, (_, i) => `${prefix}${i}`);
        await forEachPaced(objs, { concurrency: parallel, perSecond: 0, clock: systemClock }, async (o) => {
          const r = phase === 'large-put' ? await call('PUT', `${account}/large/${o}`, h, large) : await call('GET', `${account}/large/${o}`, h);
          if (r.status !== (phase === 'large-put' ? 201 : 200)) throw new Error(`${phase} ${o}: ${r.status}`);
          if (phase === 'large-get' && r.bytes !== large.length) throw new Error(`GET ${o}: ${r.bytes} bytes`);
        });
        units = (largeCount * large.length) / 2 ** 30;
        unitName = 'GiB';
      } else {
        // Each PUT round writes new names (as a backup's extents are), GETs read the last round's.
        if (phase === 'small-put') smallRound += 1;
        const objs = Array.from({ length: smallCount }, (_, i) => `r${Math.max(smallRound, 1)}-o${i}`);
        await forEachPaced(objs, { concurrency, perSecond: 0, clock: systemClock }, async (o) => {
          const r = phase === 'small-put' ? await call('PUT', `${account}/small/${o}`, h, small) : await call('GET', `${account}/small/${o}`, h);
          if (r.status !== (phase === 'small-put' ? 201 : 200)) throw new Error(`${phase} ${o}: ${r.status}`);
        });
        units = smallCount / 1000;
        unitName = '1000 objects';
      }
      const seconds = (performance.now() - t0) / 1000;
      const rate = unitName === 'GiB' ? `${((units * 2 ** 30) / 1e6 / seconds).toFixed(1)} MB/s` : `${((units * 1000) / seconds).toFixed(0)}/s`;
      console.log(`${phase}: ${rate} (noisy); per ${unitName}:`);
      for (const [n, pids] of groups) {
        const a = before.get(n) as ProcessSample;
        const b = await sampleProcesses(pids);
        const per = (x: number): string => (x / units).toFixed(2);
        console.log(`  ${n.padEnd(9)} cpu ${per(b.user - a.user + b.sys - a.sys)} s (user ${per(b.user - a.user)}, sys ${per(b.sys - a.sys)})  faults ${((b.minflt - a.minflt) / units).toFixed(0)}  rss ${(b.rssKb / 1024).toFixed(0)} MB  peak ${(b.hwmKb / 1024).toFixed(0)} MB`);
      }
    }
  } finally {
    agent.destroy();
    const exited = new Promise((r) => aio.once('exit', r));
    aio.kill('SIGTERM');
    await exited;
    console.log(`# data left in ${data}`);
  }
}

await main();
