/**
 * One object server, in its own process, under 4 KiB PUTs then GETs from this process:
 *
 *   node bench/object-server.ts [--seconds 10] [--concurrency 32] [--size 4096] [--dir /tmp/x]
 *
 * Every PUT is fsynced before it is answered. Prints requests per second, latency and the
 * server's CPU time per request (user + system, from /proc).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { splitArgs } from '../common/cli-args.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['seconds', 'concurrency', 'size', 'dir']));
const seconds = Number(flags.get('seconds') ?? 10);
const concurrency = Number(flags.get('concurrency') ?? 32);
const size = Number(flags.get('size') ?? 4096);
const devices = flags.get('dir') ?? (await mkdtemp(join(tmpdir(), 'bench-object-')));
await mkdir(join(devices, 'sda'), { recursive: true });

const child = spawn(process.execPath, [join(import.meta.dirname, '../test/helpers/object-server-process.ts'), devices], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => child.stdout.on('data', (c: Buffer) => resolve(Number(/listening (\d+)/.exec(c.toString())?.[1]))));
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency });
const body = Buffer.alloc(size, 'x');

/** The server process's CPU time so far, user and system, in ms; 0 where /proc is missing. */
async function serverCpuMs(): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11] ?? 0) * 10, system: Number(fields[12] ?? 0) * 10 };
}

async function phase(name: string, op: (i: number) => Promise<number>): Promise<number> {
  const cpuBefore = await serverCpuMs();
  const latencies: number[] = [];
  let count = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; performance.now() < deadline; i += concurrency) {
        const t0 = performance.now();
        const status = await op(i);
        latencies.push(performance.now() - t0);
        if (status >= 300) errors++;
        count++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0).toFixed(2);
  const cpuAfter = await serverCpuMs();
  const perOp = (ms: number): string => ((ms * 1000) / Math.max(1, count)).toFixed(0);
  console.log(`${name} size=${size} concurrency=${concurrency}: ${(count / seconds).toFixed(0)} req/s, p50 ${pct(50)} ms, p99 ${pct(99)} ms, errors ${errors}, server CPU µs/req: user ${perOp(cpuAfter.user - cpuBefore.user)} system ${perOp(cpuAfter.system - cpuBefore.system)}`);
  return count;
}

const base = 1_700_000_000;
const written: number[] = [];
await phase('PUT', async (i) => {
  const res = await pool.request({ method: 'PUT', path: `/sda/${i % 1024}/AUTH_bench/c/o-${i}`, headers: { 'x-timestamp': `${base + i}.00000`, 'content-type': 'application/octet-stream', 'content-length': String(size) }, body });
  await res.body.dump();
  if (res.statusCode === 201) written.push(i);
  return res.statusCode;
});
await phase('GET', async (i) => {
  const n = written[i % written.length] as number;
  const res = await pool.request({ method: 'GET', path: `/sda/${n % 1024}/AUTH_bench/c/o-${n}` });
  await res.body.dump();
  return res.statusCode;
});
await pool.close();
child.kill();
if (!flags.has('dir')) await rm(devices, { recursive: true, force: true });
