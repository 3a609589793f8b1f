import { readdir } from 'node:fs/promises';
import type { Device } from '../ring/device.ts';
import type { StorageNodeContext } from './node-context.ts';

/** The devices of a ring that this node serves: same ip, and this node's port for that ring. */
export function localDevices(ctx: StorageNodeContext, kind: 'account' | 'container' | 'object'): Device[] {
  return ctx.rings[kind].devices.filter((d) => d.ip === ctx.bindIp && d.port === ctx.ports[kind]);
}

/**
 * Every device directory under this node's devices root, in the ring or not (Swift's updater
 * and auditor walk the root, not the ring: work left on a device that left the ring still
 * gets done).
 */
export async function deviceDirs(ctx: StorageNodeContext): Promise<string[]> {
  const entries = await readdir(ctx.devices, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}
