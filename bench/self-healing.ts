/**
 * How fast the cluster heals, on an all-in-one cluster of real processes:
 *
 *   npm run bench:healing -- replication [--objects 2000] [--size 262144] [--concurrency 2]
 *     A node loses its disk's objects; one `swiftlet once object-replicator` restores them.
 *     Prints objects and MB per second restored.
 *
 *   npm run bench:healing -- convergence [--downtime 600] [--rate 20] [--size 4096]
 *     Objects are written at a steady rate; a node is down for `downtime` seconds and comes
 *     back with its daemons running on their own (Swift's intervals). Prints how long after its
 *     return it holds every object (and listing row) written while it was away.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { splitArgs } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { forEachPaced } from '../common/for-each-paced.ts';
import { type ProbeCluster, startProbeCluster } from './process-cluster.ts';

const { positional, flags } = splitArgs(process.argv.slice(2), new Set(['objects', 'size', 'downtime', 'rate', 'concurrency']));
const mode = positional[0];
const VICTIM = 1;

/** Whether the victim's device is a primary for `name`. */
function onVictim(c: ProbeCluster, name: string): boolean {
  return c.rings().object.getNodes('AUTH_test', 'heal', name).nodes.some((n) => c.nodeOf(n) === VICTIM);
}

/** Of `names`, those the victim does not hold yet. */
async function missingOnVictim(c: ProbeCluster, names: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  await forEachPaced(names, { concurrency: 32, perSecond: 0, clock: systemClock }, async (name) => {
    const r = (await c.onPrimaries('HEAD', ['AUTH_test', 'heal', name])).find((x) => x.node === VICTIM);
    if (r?.status !== 200) missing.push(name);
  });
  return missing;
}

async function replication(): Promise<void> {
  const count = Number(flags.get('objects') ?? 2000);
  const size = Number(flags.get('size') ?? 256 * 1024);
  const concurrency = flags.get('concurrency');
  const c = await startProbeCluster(concurrency ? { nodeConfig: `\n[object-replicator]\nconcurrency = ${concurrency}\n` } : {});
  try {
    await c.request('PUT', '/v1/AUTH_test/heal');
    const body = randomBytes(size);
    const names = Array.from({ length: count }, (_, i) => `obj-${i}`);
    const t0 = performance.now();
    await forEachPaced(names, { concurrency: 16, perSecond: 0, clock: systemClock }, async (name) => {
      const r = await c.request('PUT', `/v1/AUTH_test/heal/${name}`, {}, body);
      if (r.status !== 201) throw new Error(`PUT ${name}: ${r.status}`);
    });
    const writeS = (performance.now() - t0) / 1000;
    console.log(`wrote ${count} x ${size} B in ${writeS.toFixed(1)} s (${(count / writeS).toFixed(0)} PUT/s, ${((count * size) / writeS / 1e6).toFixed(1)} MB/s through the proxy)`);
    const mine = names.filter((n) => onVictim(c, n));
    await c.kill(VICTIM);
    await rm(join(c.layout.devices(VICTIM), `d${VICTIM}`, 'objects'), { recursive: true, force: true });
    await c.start(VICTIM);
    console.log(`node${VICTIM} lost its ${mine.length} objects (${((mine.length * size) / 1e6).toFixed(0)} MB)`);
    const t1 = performance.now();
    const out = await c.once('object-replicator');
    const healS = (performance.now() - t1) / 1000;
    const missing = await missingOnVictim(c, mine);
    console.log(out.trim());
    console.log(`restored ${mine.length - missing.length} of ${mine.length} objects in ${healS.toFixed(1)} s: ${((mine.length - missing.length) / healS).toFixed(0)} objects/s, ${(((mine.length - missing.length) * size) / healS / 1e6).toFixed(1)} MB/s`);
  } finally {
    await c.close();
  }
}

async function convergence(): Promise<void> {
  const downtimeS = Number(flags.get('downtime') ?? 600);
  const rate = Number(flags.get('rate') ?? 20);
  const size = Number(flags.get('size') ?? 4096);
  // Swift's default intervals, with the auditors kept quiet as on a busy production node.
  const c = await startProbeCluster({ daemons: true, nodeConfig: '' });
  const body = randomBytes(size);
  let stop = false;
  let i = 0;
  let failures = 0;
  const written: { name: string; at: number }[] = [];
  let writer: Promise<void> | undefined;
  try {
    await c.request('PUT', '/v1/AUTH_test/heal');
    writer = (async () => {
      const started = performance.now();
      while (!stop) {
        const name = `w-${String(i++).padStart(7, '0')}`;
        const r = await c.request('PUT', `/v1/AUTH_test/heal/${name}`, {}, body);
        if (r.status === 201) written.push({ name, at: performance.now() });
        else failures++;
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      }
    })();
    await new Promise((res) => setTimeout(res, 10_000));
    const downAt = performance.now();
    await c.kill(VICTIM);
    console.log(`node${VICTIM} down for ${downtimeS} s while ${rate} PUT/s of ${size} B go on`);
    await new Promise((res) => setTimeout(res, downtimeS * 1000));
    await c.start(VICTIM);
    const upAt = performance.now();
    const during = written.filter((w) => w.at >= downAt && w.at <= upAt).map((w) => w.name);
    let pending = during.filter((n) => onVictim(c, n));
    const container = c.rings().container.getNodes('AUTH_test', 'heal').nodes.some((n) => c.nodeOf(n) === VICTIM);
    console.log(`${during.length} objects written while it was down, ${pending.length} of them belong on node${VICTIM}; its container replica: ${container ? 'yes' : 'no'}`);
    let objectsAt: number | undefined;
    let listingAt: number | undefined;
    while (objectsAt === undefined || listingAt === undefined) {
      await new Promise((res) => setTimeout(res, 2000));
      const now = (performance.now() - upAt) / 1000;
      if (objectsAt === undefined) {
        pending = await missingOnVictim(c, pending);
        if (pending.length === 0) objectsAt = now;
      }
      if (listingAt === undefined) {
        if (!container) listingAt = 0;
        else {
          const listing = (await c.listings('AUTH_test', 'heal')).find((l) => l.node === VICTIM);
          const have = new Set(listing?.names ?? []);
          if (during.every((n) => have.has(n))) listingAt = now;
        }
      }
      if (now > 3600) throw new Error('not converged after an hour');
    }
    console.log(`converged ${objectsAt.toFixed(0)} s after the node returned (objects); listing ${listingAt.toFixed(0)} s; ${failures} writes failed in all`);
  } finally {
    stop = true;
    await writer?.catch(() => undefined);
    await c.close();
  }
}

if (mode === 'replication') await replication();
else if (mode === 'convergence') await convergence();
else {
  console.error('usage: npm run bench:healing -- replication|convergence [options] (see the top of the file)');
  process.exitCode = 2;
}
