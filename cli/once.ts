import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DaemonReport } from '../common/daemon.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { DAEMON_ORDER } from '../replicator/recon.ts';
import { loadStorageNodeConfig } from './node-config.ts';

/** A running storage node's recon address. */
export interface NodeAddress {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
}

/** The storage nodes of an all-in-one cluster (`--data DIR`) or of one node config (`--config FILE`). */
export async function nodesFrom(flags: ReadonlyMap<string, string>): Promise<NodeAddress[]> {
  const configs: string[] = [];
  if (flags.has('config')) configs.push(flags.get('config') as string);
  else {
    const etc = join(flags.get('data') ?? 'data', 'etc');
    const names = (await readdir(etc).catch(() => [] as string[])).filter((n) => /^node\d+\.conf$/.test(n)).sort();
    configs.push(...names.map((n) => join(etc, n)));
  }
  return configs.map((path) => {
    const config = loadStorageNodeConfig(path);
    const ip = config.storage.bind_ip === '0.0.0.0' ? '127.0.0.1' : config.storage.bind_ip;
    return { name: path.replace(/^.*\//, '').replace(/\.conf$/, ''), ip, port: config['object-server'].bind_port };
  });
}

/**
 * `swiftlet once <daemon>|all`: runs daemons once on every node and returns when they are done,
 * as `swift-init <daemon> once` does. The nodes must be running (each owns its databases); the
 * pass runs inside them. `all` runs each daemon on every node before the next daemon starts:
 * updaters, then replicators, then auditors.
 */
export async function runOnce(daemon: string | undefined, flags: ReadonlyMap<string, string>, io: { out(line: string): void; err(line: string): void }): Promise<number> {
  if (!daemon || (daemon !== 'all' && !(DAEMON_ORDER as readonly string[]).includes(daemon))) {
    if (daemon) io.err(`unknown daemon ${JSON.stringify(daemon)}`);
    io.err(`usage: swiftlet once <daemon>|all [--data DIR | --config FILE]\n  daemons: ${DAEMON_ORDER.join(', ')}`);
    return 2;
  }
  const nodes = await nodesFrom(flags);
  if (nodes.length === 0) {
    io.err('no storage nodes found: pass --data DIR (an aio cluster) or --config FILE (a node)');
    return 2;
  }
  const client = new UndiciBackendClient({ nodeTimeoutMs: 3_600_000 });
  let failed = false;
  try {
    const names = daemon === 'all' ? [...DAEMON_ORDER] : [daemon];
    for (const name of names) {
      await Promise.all(
        nodes.map(async (node) => {
          try {
            const res = await client.request(node, { method: 'POST', path: '/recon/once', query: `daemon=${encodeURIComponent(name)}` });
            if (res.status === 404 && daemon === 'all') return void (await res.body.dump());
            if (res.status !== 200) {
              failed = true;
              io.err(`${node.name}: ${name}: ${res.status} ${await res.body.text()}`);
              return;
            }
            for (const report of (await res.body.json()) as DaemonReport[]) io.out(`${node.name}: ${describe(report)}`);
          } catch (err) {
            failed = true;
            io.err(`${node.name} (${node.ip}:${node.port}): not reachable (${(err as Error).message}); is it running?`);
          }
        }),
      );
    }
  } finally {
    await client.close();
  }
  return failed ? 1 : 0;
}

function describe(report: DaemonReport): string {
  const counts = Object.entries(report.lastPass).map(([k, v]) => `${k}=${v}`).join(' ');
  return `${report.name} done in ${report.lastPassMs ?? '?'} ms${counts ? `: ${counts}` : ''}`;
}
