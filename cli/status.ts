import type { DaemonReport } from '../common/daemon.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { type NodeAddress, nodesFrom } from './once.ts';

interface NodeStatus {
  readonly node: NodeAddress;
  readonly up: boolean;
  readonly async?: number;
  readonly quarantined?: Record<string, number>;
  readonly disk?: { size?: number; used?: number; mounted: boolean }[];
  readonly rings?: Record<string, string>;
  readonly daemons?: DaemonReport[];
}

/**
 * `swiftlet status`: the whole cluster at a glance from every node's recon (like swift-recon):
 * up or down, async pendings, quarantined files, disk use, when replication last finished,
 * and whether every node uses the same rings.
 */
export async function runStatus(flags: ReadonlyMap<string, string>, io: { out(line: string): void; err(line: string): void }, now: number): Promise<number> {
  const nodes = await nodesFrom(flags);
  if (nodes.length === 0) {
    io.err('no storage nodes found: pass --data DIR (an aio cluster) or --config FILE (a node)');
    return 2;
  }
  const client = new UndiciBackendClient({ nodeTimeoutMs: 5000, connectTimeoutMs: 1000 });
  const get = async (node: NodeAddress, what: string): Promise<unknown> => {
    const res = await client.request(node, { method: 'GET', path: `/recon/${what}` });
    if (res.status === 200) return res.body.json();
    await res.body.dump();
    return undefined;
  };
  const statuses: NodeStatus[] = await Promise.all(
    nodes.map(async (node) => {
      try {
        const [async, quarantined, disk, rings, daemons] = await Promise.all(['async', 'quarantined', 'diskusage', 'ringmd5', 'daemons'].map((w) => get(node, w)));
        return { node, up: true, async: (async as { async_pending: number }).async_pending, quarantined: quarantined as Record<string, number>, disk: disk as NodeStatus['disk'], rings: rings as Record<string, string>, daemons: daemons as DaemonReport[] };
      } catch {
        return { node, up: false };
      }
    }),
  );
  await client.close();
  const rows = [['node', 'address', 'state', 'async', 'quarantined o/c/a', 'disk used', 'object replication', 'container replication']];
  for (const s of statuses) {
    const q = s.quarantined;
    const used = (s.disk ?? []).reduce((a, d) => a + (d.used ?? 0), 0);
    const size = (s.disk ?? []).reduce((a, d) => a + (d.size ?? 0), 0);
    rows.push([
      s.node.name,
      `${s.node.ip}:${s.node.port}`,
      s.up ? 'up' : 'DOWN',
      s.up ? String(s.async) : '-',
      q ? `${q['objects']}/${q['containers']}/${q['accounts']}` : '-',
      s.up ? `${gb(used)}/${gb(size)} GB` : '-',
      lastPass(s.daemons, 'object-replicator', now),
      lastPass(s.daemons, 'container-replicator', now),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows) io.out(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  const md5s = new Set(statuses.filter((s) => s.up).map((s) => JSON.stringify(Object.values(s.rings ?? {}))));
  io.out(md5s.size <= 1 ? 'rings: every node has the same rings' : 'rings: NODES DISAGREE on the rings; copy the current .ring.gz files to every node');
  const down = statuses.filter((s) => !s.up).length;
  return down === 0 && md5s.size <= 1 ? 0 : 1;
}

function lastPass(daemons: DaemonReport[] | undefined, name: string, now: number): string {
  const report = daemons?.find((d) => d.name === name);
  if (!report) return '-';
  if (report.lastPassStartedAt === undefined) return report.lastError ? `failing: ${report.lastError}` : 'not run yet';
  const ago = Math.round((now - report.lastPassStartedAt) / 1000);
  return `${ago}s ago, ${report.lastPassMs} ms`;
}

function gb(bytes: number): string {
  return (bytes / 1e9).toFixed(1);
}
