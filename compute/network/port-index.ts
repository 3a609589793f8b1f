import type { PortRecord } from './records.ts';
import type { NetworkStore } from './store.ts';

/** `port-devices/<device_id>/<port_id>`: the ports of a server (or router, floating IP). */
const BY_DEVICE = 'port-devices';
/** `port-projects/<project_id>/<port_id>`: a project's ports, counted for its quota. */
const BY_PROJECT = 'port-projects';
/** `port-index/built`: every port made before the index existed has its entries. */
const STATE = 'port-index';

/** How many ports a first build indexes at once. */
const BUILD_CONCURRENCY = 16;

type Indexed = Pick<PortRecord, 'id' | 'project_id' | 'device_id'>;

function entries(port: Indexed): [string, string][] {
  const out: [string, string][] = [[BY_PROJECT, `${port.project_id}/${port.id}`]];
  if (port.device_id !== '') out.push([BY_DEVICE, `${port.device_id}/${port.id}`]);
  return out;
}

/**
 * Ports by device and by project without reading every port: an empty record per (device,
 * port) and (project, port), listed by prefix. Entries are written before the port record they
 * point at and removed after it, so an entry may point at a port that is not (yet, or any
 * more) there but a port is never missing from its entries, even across a crash: readers of
 * devices check each port, and a project's count may include a port being made (which makes it
 * a reservation: two creates at the very limit cannot both pass) or one a crash left behind.
 */
export class PortIndex {
  private readonly store: NetworkStore;
  private built: Promise<void> | undefined;

  constructor(store: NetworkStore) {
    this.store = store;
  }

  /** Entries for `port` (before its record is written; harmless if they exist). */
  async add(port: Indexed): Promise<void> {
    await Promise.all(entries(port).map(([type, key]) => this.store.claim(type, key, { port_id: port.id })));
  }

  /** Entries `port` had and `now` (its new state, if it still exists) does not: after the record is written or removed. */
  async remove(port: Indexed, now?: Indexed): Promise<void> {
    const keep = new Set(now ? entries(now).map(([t, k]) => `${t}/${k}`) : []);
    await Promise.all(entries(port).filter(([t, k]) => !keep.has(`${t}/${k}`)).map(([type, key]) => this.store.delete(type, key)));
  }

  /** The ports whose `device_id` is `deviceId`. */
  async ofDevice(deviceId: string): Promise<PortRecord[]> {
    await this.ensureBuilt();
    const ids = (await this.store.keys(BY_DEVICE, `${deviceId}/`)).map((k) => k.slice(deviceId.length + 1));
    const ports = await Promise.all(ids.map((id) => this.store.get<PortRecord>('ports', id)));
    return ports.filter((p): p is PortRecord => p !== undefined && p.device_id === deviceId);
  }

  /** How many ports `projectId` has (those being made included). */
  async countOfProject(projectId: string): Promise<number> {
    await this.ensureBuilt();
    return (await this.store.keys(BY_PROJECT, `${projectId}/`)).length;
  }

  /** Indexes ports made before the index (once per cluster; every process checks once). */
  private ensureBuilt(): Promise<void> {
    this.built ??= (async () => {
      if (await this.store.get(STATE, 'built')) return;
      const ports = await this.store.scan<PortRecord>('ports');
      for (let i = 0; i < ports.length; i += BUILD_CONCURRENCY) await Promise.all(ports.slice(i, i + BUILD_CONCURRENCY).map((p) => this.add(p)));
      await this.store.claim(STATE, 'built', { ports: ports.length });
    })().catch((err: unknown) => {
      this.built = undefined;
      throw err;
    });
    return this.built;
  }
}
