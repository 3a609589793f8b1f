import { SwiftError } from '../common/errors.ts';

/** A device in a ring: one disk of one storage server. */
export interface Device {
  readonly id: number;
  readonly region: number;
  readonly zone: number;
  readonly ip: string;
  readonly port: number;
  readonly replication_ip: string;
  readonly replication_port: number;
  /** The directory name under the server's devices root, e.g. `sdb1`. */
  readonly device: string;
  readonly weight: number;
  readonly meta: string;
}

/** What an operator gives to add a device; the id is chosen by the builder unless given. */
export type DeviceSpec = Omit<Device, 'id' | 'replication_ip' | 'replication_port' | 'meta'> &
  Partial<Pick<Device, 'id' | 'replication_ip' | 'replication_port' | 'meta'>>;

/** A ring file or builder operation was given something wrong. */
export class RingError extends SwiftError {
  constructor(
    code: 'RING_FILE_CORRUPT' | 'RING_FILE_FOREIGN' | 'RING_FILE_VERSION' | 'RING_FILE_MISSING' | 'RING_BUILDER' | 'RING_DEVICE_SYNTAX' | 'RING_NOT_BUILT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

// r<region>z<zone>-<ip>:<port>[R<repl_ip>:<repl_port>]/<device>[_<meta>]; ip may be [v6].
const DEVICE_SYNTAX = /^r(\d+)z(\d+)-(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d+)(?:R(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d+))?\/([^_\s/]+)(?:_(.*))?$/;

/**
 * Parses swift-ring-builder's device syntax, e.g. `r1z1-127.0.0.1:6210/sdb1`,
 * `r1z2-10.0.0.2:6210R10.1.0.2:6310/sdb1_ssd`.
 * @throws {RingError} naming what is wrong with the text.
 */
export function parseDeviceSyntax(text: string, weight: number): DeviceSpec {
  const m = DEVICE_SYNTAX.exec(text.trim());
  if (!m) {
    throw new RingError('RING_DEVICE_SYNTAX', `invalid device ${JSON.stringify(text)}: expected r<region>z<zone>-<ip>:<port>[R<ip>:<port>]/<device>[_<meta>], e.g. r1z1-127.0.0.1:6210/sdb1`);
  }
  const [, region, zone, ip = '', port, replIp, replPort, device = '', meta] = m;
  const unbracket = (s: string): string => s.replace(/^\[|\]$/g, '');
  const spec: DeviceSpec = {
    region: Number(region),
    zone: Number(zone),
    ip: unbracket(ip),
    port: checkPort(Number(port), text),
    device,
    weight: checkWeight(weight),
    meta: meta ?? '',
  };
  if (replIp !== undefined) return { ...spec, replication_ip: unbracket(replIp), replication_port: checkPort(Number(replPort), text) };
  return spec;
}

export function checkWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight < 0) throw new RingError('RING_BUILDER', `invalid weight ${weight}: must be a number >= 0`);
  return weight;
}

function checkPort(port: number, text: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RingError('RING_DEVICE_SYNTAX', `invalid port in ${JSON.stringify(text)}`);
  return port;
}

/** `r1z1-127.0.0.1:6210/sdb1`, the form operators type. */
export function formatDevice(dev: Device): string {
  const host = (ip: string): string => (ip.includes(':') ? `[${ip}]` : ip);
  const repl = dev.replication_ip !== dev.ip || dev.replication_port !== dev.port ? `R${host(dev.replication_ip)}:${dev.replication_port}` : '';
  return `r${dev.region}z${dev.zone}-${host(dev.ip)}:${dev.port}${repl}/${dev.device}${dev.meta ? `_${dev.meta}` : ''}`;
}

/**
 * Finds devices by swift-ring-builder's search values: `d<id>`, or any leading part of
 * `r<region>z<zone>-<ip>:<port>/<device>_<meta>` (e.g. `r1z2`, `r1z1-127.0.0.1:6210`,
 * `/sdb1`), or a bare ip.
 */
export function matchDevices(devices: readonly Device[], search: string): Device[] {
  const value = search.trim();
  const byId = /^d(\d+)$/.exec(value);
  if (byId) return devices.filter((d) => d.id === Number(byId[1]));
  const m = /^(?:r(\d+))?(?:z(\d+))?(?:-?(\[[^\]]+\]|[^:/_\s]+))?(?::(\d+))?(?:\/([^_\s]+))?(?:_(.*))?$/.exec(value);
  if (!m || value === '') throw new RingError('RING_DEVICE_SYNTAX', `invalid search value ${JSON.stringify(search)}: use d<id> or r<region>z<zone>-<ip>:<port>/<device>`);
  const [, region, zone, ip, port, device, meta] = m;
  const bareIp = ip?.replace(/^\[|\]$/g, '');
  return devices.filter(
    (d) =>
      (region === undefined || d.region === Number(region)) &&
      (zone === undefined || d.zone === Number(zone)) &&
      (bareIp === undefined || d.ip === bareIp) &&
      (port === undefined || d.port === Number(port)) &&
      (device === undefined || d.device === device) &&
      (meta === undefined || d.meta === meta),
  );
}
