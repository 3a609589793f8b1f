import { existsSync, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CLUSTER_CONF, loadConfigFile, swiftHashSchema } from '../common/config.ts';
import type { DaemonReport } from '../common/daemon.ts';
import { HashPath } from '../common/hash-path.ts';
import { type BackendNode, UndiciBackendClient } from '../common/http/backend-client.ts';
import type { DiskUsage, RingFileFacts } from '../replicator/node-facts.ts';
import { ringFiles } from '../replicator/node-facts.ts';
import type { NodeFacts } from '../replicator/recon.ts';
import { readRingFile } from '../ring/io.ts';
import { type Finding, type NodeView, nodeFindings, type ProxyView, proxyFindings, type Reference } from './cluster-checks.ts';
import { configRole, loadProxyConfig, loadStorageNodeConfig } from './node-config.ts';
import { nodeName } from './node-name.ts';

type Io = { out(line: string): void; err(line: string): void };

/** A storage node to ask: named by its config file, or by its ring address. */
interface Target {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
}

/** A ring device's address, for finding the node that serves it. */
interface RingEndpoint {
  readonly ring: string;
  readonly ip: string;
  readonly port: number;
  readonly device: string;
}

/** What the flags name: the nodes given, the proxy, and where this machine's rings and secret are. */
interface Sources {
  readonly targets: Target[];
  readonly proxy?: Target;
  readonly swiftDir?: string;
  readonly referenceSource: string;
  readonly secretDigest?: string;
}

/**
 * `swiftlet status`: the whole cluster at a glance, as `swift-recon` shows it. Every storage
 * node found in the rings (or given with `--config`/`--data`) is asked over recon, all at
 * once: up or down, each ring's MD5 and version against this machine's, a digest of its
 * hash-path secret against this machine's (never the secret), whether its objects hash to
 * where they lie, mounted and unmounted devices, disk use, async pendings, quarantined files,
 * replication's last pass. With a proxy config, the proxy too: up, and running the rings its
 * files hold. Exits 1 and names the node and the cause when anything is wrong (a monitor's
 * check), 0 otherwise; `--json` prints everything for scripts.
 */
export async function runStatus(flags: ReadonlyMap<string, string>, repeated: ReadonlyMap<string, readonly string[]>, io: Io, now: number): Promise<number> {
  let sources: Sources;
  try {
    sources = sourcesOf(flags, repeated);
  } catch (err) {
    io.err(`swiftlet status: ${(err as Error).message}`);
    return 2;
  }
  const reference: Reference = {
    source: sources.referenceSource,
    rings: sources.swiftDir ? await ringFiles(sources.swiftDir) : {},
    ...(sources.secretDigest !== undefined ? { secretDigest: sources.secretDigest } : {}),
  };
  const endpoints = sources.swiftDir ? await ringEndpoints(sources.swiftDir) : [];
  const targets = [...sources.targets];
  for (const e of endpoints) {
    if (!e.ring.startsWith('object')) continue;
    if (!targets.some((t) => t.ip === e.ip && t.port === e.port)) targets.push({ name: `${e.ip}:${e.port}`, ip: e.ip, port: e.port });
  }
  if (targets.length === 0 && !sources.proxy) {
    io.err(`swiftlet status: no storage nodes found (no rings in ${sources.swiftDir ?? 'any swift_dir'}): pass --data DIR, --config FILE or --swift-dir DIR`);
    return 2;
  }
  const client = new UndiciBackendClient({ nodeTimeoutMs: 5000, connectTimeoutMs: 2000 });
  let views: NodeView[];
  let proxy: ProxyView | undefined;
  try {
    [views, proxy] = await Promise.all([Promise.all(targets.map((t) => askNode(client, t))), sources.proxy ? askProxy(client, sources.proxy) : Promise.resolve(undefined)]);
  } finally {
    await client.close();
  }
  const findings: Finding[] = [];
  views = placeRingDevices(views, endpoints, findings);
  findings.unshift(...nodeFindings(reference, views));
  if (proxy) findings.push(...proxyFindings(reference, proxy));
  const problems = findings.filter((f) => f.severity === 'problem');
  if (flags.has('json')) {
    io.out(JSON.stringify({ ok: problems.length === 0, reference, nodes: views, proxy, findings }, null, 2));
  } else {
    printTable(io, views, proxy, now);
    printSummary(io, reference, views, findings);
  }
  return problems.length === 0 ? 0 : 1;
}

function sourcesOf(flags: ReadonlyMap<string, string>, repeated: ReadonlyMap<string, readonly string[]>): Sources {
  const targets: Target[] = [];
  let proxy: Target | undefined;
  let swiftDir = flags.get('swift-dir');
  let referenceSource = swiftDir ?? '';
  let secretDigest: string | undefined;
  const storageConfigs: string[] = [];
  let configs = [...(repeated.get('config') ?? [])];
  if (configs.length === 0 && (flags.has('data') || !swiftDir)) {
    const etc = join(flags.get('data') ?? 'data', 'etc');
    if (existsSync(etc)) {
      configs = [join(etc, 'proxy.conf'), ...nodeConfigsIn(etc)].filter((p) => existsSync(p));
    } else if (flags.has('data')) {
      throw new Error(`no cluster in ${flags.get('data')} (no ${etc})`);
    } else {
      swiftDir = '/etc/swiftlet';
      referenceSource = swiftDir;
    }
  }
  for (const path of configs) {
    const role = configRole(path);
    if (role === 'proxy') {
      if (proxy) throw new Error(`more than one proxy config (${path})`);
      const config = loadProxyConfig(path);
      const p = config['proxy-server'];
      proxy = { name: `proxy`, ip: reachable(p.bind_ip), port: p.bind_port };
      // The proxy's rings and secret are the ones the cluster is held to.
      swiftDir = p.swift_dir;
      referenceSource = `${nodeName(path)} (${p.swift_dir})`;
      secretDigest = new HashPath(config['swift-hash'].swift_hash_path_prefix, config['swift-hash'].swift_hash_path_suffix).secretDigest();
    } else if (role === 'storage') {
      storageConfigs.push(path);
    } else {
      throw new Error(`${path} is neither a storage config ([storage]) nor a proxy config ([proxy-server])`);
    }
  }
  for (const path of storageConfigs) {
    const config = loadStorageNodeConfig(path);
    targets.push({ name: nodeName(path), ip: reachable(config.storage.bind_ip), port: config['object-server'].bind_port });
    if (swiftDir === undefined) {
      swiftDir = config.storage.swift_dir;
      referenceSource = `${nodeName(path)} (${swiftDir})`;
      const h = config['swift-hash'];
      secretDigest = new HashPath(h.swift_hash_path_prefix, h.swift_hash_path_suffix).secretDigest();
    }
  }
  if (secretDigest === undefined && swiftDir !== undefined && existsSync(join(swiftDir, CLUSTER_CONF))) {
    const h = loadConfigFile(join(swiftDir, CLUSTER_CONF), { 'swift-hash': swiftHashSchema })['swift-hash'];
    if (h.swift_hash_path_prefix !== '' || h.swift_hash_path_suffix !== '') secretDigest = new HashPath(h.swift_hash_path_prefix, h.swift_hash_path_suffix).secretDigest();
  }
  return { targets, ...(proxy ? { proxy } : {}), ...(swiftDir !== undefined ? { swiftDir } : {}), referenceSource: referenceSource || (swiftDir ?? 'here'), ...(secretDigest !== undefined ? { secretDigest } : {}) };
}

function nodeConfigsIn(etc: string): string[] {
  try {
    return readdirSync(etc).filter((n) => /^node\d+\.conf$/.test(n)).sort((a, b) => Number(a.slice(4, -5)) - Number(b.slice(4, -5))).map((n) => join(etc, n));
  } catch {
    return [];
  }
}

/** A wildcard bind address is reached on loopback from this machine. */
function reachable(ip: string): string {
  return ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
}

/** Every device of every ring in `swiftDir`. */
async function ringEndpoints(swiftDir: string): Promise<RingEndpoint[]> {
  const out: RingEndpoint[] = [];
  for (const name of (await readdir(swiftDir).catch(() => [] as string[])).filter((n) => n.endsWith('.ring.gz')).sort()) {
    try {
      for (const d of readRingFile(join(swiftDir, name)).devices) if (d) out.push({ ring: name, ip: d.ip, port: d.port, device: d.device });
    } catch {
      // Reported by the ring checks (the reference's own file is unreadable).
    }
  }
  return out;
}

async function askNode(client: UndiciBackendClient, target: Target): Promise<NodeView> {
  const node: BackendNode = { ip: target.ip, port: target.port };
  const get = async (what: string): Promise<unknown> => {
    const res = await client.request(node, { method: 'GET', path: `/recon/${what}` });
    if (res.status !== 200) {
      await res.body.dump();
      // An older node without this check still counts as up.
      if (res.status === 404) return undefined;
      throw new Error(`recon/${what} answered ${res.status}`);
    }
    return res.body.json();
  };
  try {
    const [facts, rings, hashpath, disks, pending, quarantined, daemons] = await Promise.all(['node', 'rings', 'hashpath', 'diskusage', 'async', 'quarantined', 'daemons'].map((w) => get(w)));
    return {
      ...target,
      up: true,
      ringDevices: [],
      ...(facts ? { facts: facts as NodeFacts } : {}),
      ...(rings ? { rings: rings as Record<string, RingFileFacts> } : {}),
      ...(hashpath ? { hashpath: hashpath as NodeView['hashpath'] & object } : {}),
      ...(disks ? { disks: disks as DiskUsage[] } : {}),
      ...(pending ? { asyncPending: (pending as { async_pending: number }).async_pending } : {}),
      ...(quarantined ? { quarantined: quarantined as Record<string, number> } : {}),
      ...(daemons ? { daemons: daemons as DaemonReport[] } : {}),
    };
  } catch (err) {
    return { ...target, up: false, error: reason(err), ringDevices: [] };
  }
}

async function askProxy(client: UndiciBackendClient, target: Target): Promise<ProxyView> {
  const node: BackendNode = { ip: target.ip, port: target.port };
  try {
    const health = await client.request(node, { method: 'GET', path: '/healthcheck' });
    const ok = health.status === 200;
    await health.body.dump();
    if (!ok) return { ...target, up: false, error: `answered ${health.status}` };
    const res = await client.request(node, { method: 'GET', path: '/metrics' });
    let text = '';
    if (res.status === 200) text = await res.body.text();
    else await res.body.dump();
    const loadedRings: Record<string, number> = {};
    for (const m of text.matchAll(/^swiftlet_ring_version\{ring="([^"]+)"\} (\d+)$/gm)) loadedRings[m[1] as string] = Number(m[2]);
    const limited = /^swiftlet_proxy_error_limited_nodes (\d+)$/m.exec(text);
    return { ...target, up: true, loadedRings, ...(limited ? { errorLimitedNodes: Number(limited[1]) } : {}) };
  } catch (err) {
    return { ...target, up: false, error: reason(err) };
  }
}

function reason(err: unknown): string {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code ?? e.message;
}

/**
 * Which node serves each ring device: the one answering on its object port, or whose recon
 * lists the device's container or account port. A device no node serves is a finding: a ring
 * with a wrong address, or a node that is not running (then its object port is DOWN already,
 * and the device is put with it).
 */
function placeRingDevices(views: NodeView[], endpoints: readonly RingEndpoint[], findings: Finding[]): NodeView[] {
  const devices = new Map<NodeView, Set<string>>(views.map((v) => [v, new Set<string>()]));
  const unserved: RingEndpoint[] = [];
  for (const e of endpoints) {
    const owner = views.find((v) => v.ip === e.ip && (v.port === e.port || (v.facts !== undefined && (v.facts.ports.container === e.port || v.facts.ports.account === e.port))));
    if (owner) devices.get(owner)?.add(e.device);
    else unserved.push(e);
  }
  for (const e of unserved) {
    // A down node's container and account ports are not known; its object ring devices are.
    const down = views.find((v) => !v.up && v.ip === e.ip && devices.get(v)?.has(e.device));
    if (down) continue;
    findings.push({ node: `${e.ip}:${e.port}`, severity: 'problem', message: `${e.ring} places device ${e.device} at ${e.ip}:${e.port}, but no storage node found answers there` });
  }
  for (const v of views) {
    if (v.up && endpoints.length > 0 && (devices.get(v)?.size ?? 0) === 0) findings.push({ node: v.name, severity: 'warning', message: 'is in none of the rings: it holds nothing the cluster reads' });
  }
  return views.map((v) => ({ ...v, ringDevices: [...(devices.get(v) ?? [])].sort() }));
}

function printTable(io: Io, views: readonly NodeView[], proxy: ProxyView | undefined, now: number): void {
  const rows = [['node', 'address', 'state', 'async', 'quarantined o/c/a', 'disk used', 'devices', 'object replication', 'container replication']];
  for (const v of views) {
    const q = v.quarantined;
    const mounted = (v.disks ?? []).filter((d): d is Extract<DiskUsage, { mounted: true }> => d.mounted === true);
    const used = mounted.reduce((a, d) => a + d.used, 0);
    const size = mounted.reduce((a, d) => a + d.size, 0);
    const unmounted = (v.disks ?? []).length - mounted.length;
    rows.push([
      v.name,
      `${v.ip}:${v.port}`,
      v.up ? 'up' : 'DOWN',
      v.up ? String(v.asyncPending ?? '-') : '-',
      q ? `${q['objects']}/${q['containers']}/${q['accounts']}` : '-',
      v.up ? `${gb(used)}/${gb(size)} GB${size > 0 ? ` ${Math.round((100 * used) / size)}%` : ''}` : '-',
      v.up ? `${mounted.length}/${(v.disks ?? []).length} mounted${unmounted > 0 ? ' (!)' : ''}` : '-',
      lastPass(v.daemons, 'object-replicator', now),
      lastPass(v.daemons, 'container-replicator', now),
    ]);
  }
  if (proxy) rows.push([proxy.name, `${proxy.ip}:${proxy.port}`, proxy.up ? 'up' : 'DOWN', '', '', '', '', '', '']);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows) io.out(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

function printSummary(io: Io, reference: Reference, views: readonly NodeView[], findings: readonly Finding[]): void {
  const up = views.filter((v) => v.up);
  const ringProblem = findings.some((f) => /ring/i.test(f.message) && f.severity === 'problem');
  const versions = Object.entries(reference.rings).map(([name, r]) => `${name} v${r.version ?? '?'}`).join(', ');
  if (up.length === views.length && !ringProblem) io.out(`rings: every node has the same rings${versions ? ` (${versions}, as ${reference.source})` : ''}`);
  const digests = new Set(up.map((v) => v.hashpath?.digest).filter((d) => d !== undefined));
  if (digests.size === 1 && (reference.secretDigest === undefined || digests.has(reference.secretDigest))) io.out(`secret: every node answering uses the same hash-path secret (digest ${[...digests][0]})`);
  for (const f of findings) io.out(`${f.severity === 'problem' ? 'PROBLEM' : 'warning'}: ${f.node}: ${f.message}`);
  const problems = findings.filter((f) => f.severity === 'problem').length;
  io.out(problems === 0 ? `status: OK, ${views.length} storage node(s)${findings.length > 0 ? `, ${findings.length} warning(s)` : ''}` : `status: ${problems} problem(s)`);
}

function lastPass(daemons: readonly DaemonReport[] | undefined, name: string, now: number): string {
  const report = daemons?.find((d) => d.name === name);
  if (!report) return '-';
  if (report.lastPassStartedAt === undefined) return report.lastError ? `failing: ${report.lastError}` : 'not run yet';
  const ago = Math.round((now - report.lastPassStartedAt) / 1000);
  const failures = report.lastPass['failures'] ?? 0;
  return `${ago}s ago, ${report.lastPassMs} ms${failures > 0 ? `, ${failures} failures` : ''}`;
}

function gb(bytes: number): string {
  return (bytes / 1e9).toFixed(1);
}
