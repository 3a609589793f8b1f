import { createHash } from 'node:crypto';
import { readdir, readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { devicePath } from '../common/drive.ts';
import { readRingFile } from '../ring/io.ts';
import { policyString } from '../common/storage-policy.ts';
import type { StorageNodeContext } from './node-context.ts';

/**
 * What a storage node knows of itself, for recon and metrics: its devices and their disks,
 * async pendings, quarantined files, and the ring files in its `swift_dir`.
 */

/** This node's devices: the directories under the devices root (hidden entries are not). */
export async function deviceNames(ctx: Pick<StorageNodeContext, 'devices'>): Promise<string[]> {
  return (await readdir(ctx.devices, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
}

export async function asyncPendings(ctx: StorageNodeContext): Promise<number> {
  let total = 0;
  for (const device of await deviceNames(ctx)) total += await ctx.pendings.count(device).catch(() => 0);
  return total;
}

export async function quarantined(ctx: StorageNodeContext): Promise<{ objects: number; containers: number; accounts: number }> {
  const out = { objects: 0, containers: 0, accounts: 0 };
  for (const device of await deviceNames(ctx)) {
    for (const kind of ['containers', 'accounts'] as const) {
      out[kind] += (await readdir(join(ctx.devices, device, 'quarantined', kind)).catch(() => [])).length;
    }
  }
  for (const n of Object.values(await quarantinedByPolicy(ctx))) out.objects += n.objects;
  return out;
}

/** Quarantined objects per storage policy (`quarantined/objects`, `objects-1`, ...; Swift's recon `policies`). */
export async function quarantinedByPolicy(ctx: StorageNodeContext): Promise<Record<string, { objects: number }>> {
  const out: Record<string, { objects: number }> = {};
  for (const policy of ctx.policies) out[String(policy.index)] = { objects: 0 };
  for (const device of await deviceNames(ctx)) {
    for (const policy of ctx.policies) {
      const entry = out[String(policy.index)] as { objects: number };
      entry.objects += (await readdir(join(ctx.devices, device, 'quarantined', policyString('objects', policy.index))).catch(() => [])).length;
    }
  }
  return out;
}

/** A device's disk (Swift's recon `diskusage` entry); `mounted` is false or the reason when it may not be used. */
export type DiskUsage = { device: string; mounted: true; size: number; used: number; avail: number } | { device: string; mounted: false | string };

export async function diskUsage(ctx: Pick<StorageNodeContext, 'devices' | 'mountCheck'>): Promise<DiskUsage[]> {
  const out: DiskUsage[] = [];
  for (const device of await deviceNames(ctx)) {
    try {
      const path = await devicePath(ctx.devices, device, ctx.mountCheck);
      const s = await statfs(path);
      // Used as Swift counts it: what is not available to us.
      out.push({ device, mounted: true, size: s.blocks * s.bsize, used: (s.blocks - s.bavail) * s.bsize, avail: s.bavail * s.bsize });
    } catch (err) {
      const reason = (err as Error).message;
      out.push({ device, mounted: /not mounted/.test(reason) ? false : reason });
    }
  }
  return out;
}

/** A ring file as recon reports it: its MD5 and version (or why it cannot be read). */
export interface RingFileFacts {
  readonly md5: string;
  readonly version?: number;
  readonly error?: string;
}

const ringCache = new Map<string, { md5: string; facts: RingFileFacts }>();

/** Every `*.ring.gz` in `swiftDir` (one per storage policy too), by file name. */
export async function ringFiles(swiftDir: string): Promise<Record<string, RingFileFacts>> {
  const out: Record<string, RingFileFacts> = {};
  const names = (await readdir(swiftDir).catch(() => [] as string[])).filter((n) => n.endsWith('.ring.gz')).sort();
  for (const name of names) {
    const path = join(swiftDir, name);
    const bytes = await readFile(path).catch(() => undefined);
    if (!bytes) continue;
    const md5 = createHash('md5').update(bytes).digest('hex');
    const cached = ringCache.get(path);
    if (cached?.md5 === md5) {
      out[name] = cached.facts;
      continue;
    }
    let facts: RingFileFacts;
    try {
      facts = { md5, version: readRingFile(path).version };
    } catch (err) {
      facts = { md5, error: (err as Error).message };
    }
    ringCache.set(path, { md5, facts });
    out[name] = facts;
  }
  return out;
}

/** MD5 of a file, or null when there is none (Swift's `swiftconfmd5`). */
export async function fileMd5(path: string): Promise<string | null> {
  const bytes = await readFile(path).catch(() => undefined);
  return bytes ? createHash('md5').update(bytes).digest('hex') : null;
}
