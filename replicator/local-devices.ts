import type { Device } from '../ring/device.ts';
import type { StorageNodeContext } from './node-context.ts';

/** The devices of a ring that this node serves: same ip, and this node's port for that ring. */
export function localDevices(ctx: StorageNodeContext, kind: 'account' | 'container' | 'object'): Device[] {
  return ctx.rings[kind].devices.filter((d) => d.ip === ctx.bindIp && d.port === ctx.ports[kind]);
}
