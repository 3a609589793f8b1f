/**
 * `npm run bench:metrics`: the CPU a 4 KiB GET spends on metrics, in process, against the same
 * work without them. Two costs per GET: the proxy's `ProxyMetrics.request` (a counter, a
 * histogram and a bytes counter) and a storage node's `StorageNodeMetrics.wrap` (the response
 * body counted as it streams, then the same three observations). Each is timed over many
 * calls with realistic labels, alternating rounds with and without, and reported as
 * microseconds of CPU per request; compare with the CPU a whole 4 KiB GET costs across the
 * cluster's processes (docs/performance.md).
 */
import type { Handler, ServerRequest } from '../common/http/server.ts';
import { systemClock } from '../common/clock.ts';
import { ProxyMetrics } from '../proxy/metrics.ts';
import { StorageNodeMetrics } from '../replicator/node-metrics.ts';

const CALLS = Number(process.argv[2] ?? 200_000);
const ROUNDS = 5;
const CHUNK = new Uint8Array(4096);

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function* fourKiB(): AsyncGenerator<Uint8Array> {
  yield CHUNK;
}

const proxy = new ProxyMetrics({ limitedNodes: () => 0, rings: () => ({}) });
const statuses = ['200', '200', '200', '200', '404', '304', '206', '200'];

function proxyRound(observe: boolean): number {
  const began = cpuMicros();
  let sink = 0;
  for (let i = 0; i < CALLS; i++) {
    const labels = { type: 'object' as const, method: 'GET', policy: String(i & 1), status: statuses[i & 7] ?? '200' };
    if (observe) proxy.request(labels, 0.0012 + (i % 50) / 10_000, 0, 4096);
    else sink += labels.status.length;
  }
  if (sink < 0) console.log(sink);
  return (cpuMicros() - began) / CALLS;
}

const storage = new StorageNodeMetrics(systemClock);
const plain: Handler = async () => ({ status: 200, headers: {}, body: fourKiB() });
const wrapped = storage.wrap('object', plain);
const request = { method: 'GET' } as ServerRequest;

async function storageRound(handler: Handler): Promise<number> {
  const began = cpuMicros();
  for (let i = 0; i < CALLS; i++) {
    const res = await handler(request);
    for await (const _ of res.body as AsyncIterable<Uint8Array>) {
      // Drained as the server writes it.
    }
  }
  return (cpuMicros() - began) / CALLS;
}

const rows: { round: number; proxyOn: number; proxyOff: number; storageOn: number; storageOff: number }[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const proxyOff = proxyRound(false);
  const proxyOn = proxyRound(true);
  const storageOff = await storageRound(plain);
  const storageOn = await storageRound(wrapped);
  rows.push({ round, proxyOn, proxyOff, storageOn, storageOff });
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const proxyCost = median(rows.map((r) => r.proxyOn - r.proxyOff));
const storageCost = median(rows.map((r) => r.storageOn - r.storageOff));
console.log(`${CALLS} calls per round, ${ROUNDS} rounds (CPU µs per request, median of rounds)`);
console.log(`proxy metrics per request:   ${proxyCost.toFixed(2)} µs`);
console.log(`storage metrics per request: ${storageCost.toFixed(2)} µs (wrapped ${median(rows.map((r) => r.storageOn)).toFixed(2)}, plain ${median(rows.map((r) => r.storageOff)).toFixed(2)})`);
console.log(`a 4 KiB GET (one proxy and one object-server request): ${(proxyCost + storageCost).toFixed(2)} µs of metrics`);
