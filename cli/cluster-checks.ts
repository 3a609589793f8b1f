import type { DaemonReport } from '../common/daemon.ts';
import type { DiskUsage, RingFileFacts } from '../replicator/node-facts.ts';
import type { PlacementReport } from '../replicator/placement-check.ts';
import type { NodeFacts } from '../replicator/recon.ts';

/**
 * The checks of `swiftlet status`, as pure functions over what was gathered: each finding
 * names the node and the cause. A `problem` makes the command exit 1 (a monitor alerts on
 * it); a `warning` is shown only.
 */
export interface Finding {
  readonly node: string;
  readonly severity: 'problem' | 'warning';
  readonly message: string;
}

/** What this machine holds: the rings and the secret the other nodes are compared with. */
export interface Reference {
  /** Where it comes from, for messages (`/etc/swiftlet`, `proxy.conf`). */
  readonly source: string;
  readonly rings: Readonly<Record<string, RingFileFacts>>;
  /** The secret's digest (`HashPath.secretDigest()`), when a secret was found here. */
  readonly secretDigest?: string;
}

/** One storage node as recon showed it (`up: false` with `error` when it did not answer). */
export interface NodeView {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly up: boolean;
  readonly error?: string;
  readonly facts?: NodeFacts;
  readonly rings?: Readonly<Record<string, RingFileFacts>>;
  readonly hashpath?: { readonly digest: string; readonly placement?: PlacementReport };
  readonly disks?: readonly DiskUsage[];
  readonly asyncPending?: number;
  readonly quarantined?: Readonly<Record<string, number>>;
  readonly daemons?: readonly DaemonReport[];
  /** Device names the rings place on this node. */
  readonly ringDevices: readonly string[];
}

/** The proxy as seen through its own config and endpoints. */
export interface ProxyView {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly up: boolean;
  readonly error?: string;
  /** Ring versions the running proxy has loaded (its `/metrics`). */
  readonly loadedRings?: Readonly<Record<string, number>>;
  readonly errorLimitedNodes?: number;
}

export function nodeFindings(reference: Reference, nodes: readonly NodeView[]): Finding[] {
  const out: Finding[] = [];
  const up = nodes.filter((n) => n.up);
  const ringRef = Object.keys(reference.rings).length > 0 ? reference : majorityRings(up);
  const secretRef = reference.secretDigest ?? majority(up.map((n) => n.hashpath?.digest).filter((d): d is string => d !== undefined));
  for (const node of nodes) {
    const problem = (message: string): number => out.push({ node: node.name, severity: 'problem', message });
    const warning = (message: string): number => out.push({ node: node.name, severity: 'warning', message });
    if (!node.up) {
      problem(`DOWN: recon at ${node.ip}:${node.port} does not answer (${node.error ?? 'no answer'})`);
      continue;
    }
    for (const finding of ringFindings(ringRef, node.rings ?? {})) (finding.severity === 'problem' ? problem : warning)(finding.message);
    const digest = node.hashpath?.digest;
    if (secretRef !== undefined && digest !== undefined && digest !== secretRef) {
      problem(`WRONG HASH-PATH SECRET: its secret's digest is ${digest}, ${reference.secretDigest !== undefined ? `${reference.source}'s` : "the other nodes'"} ${secretRef}; every name hashes elsewhere on it (404s, data written where no other node looks): give it the cluster's swiftlet.conf and restart it`);
    }
    const placement = node.hashpath?.placement;
    if (placement && placement.misplaced > 0) {
      const e = placement.example;
      problem(`${placement.misplaced} object(s) do not hash to where they lie under its secret${e ? ` (e.g. ${e.name} in ${e.device}/${e.partition}/${e.hash}, expected ${e.expected})` : ''}: written under another hash-path secret`);
    }
    for (const disk of node.disks ?? []) {
      if (disk.mounted === true) continue;
      problem(`device ${disk.device} ${disk.mounted === false ? 'is NOT MOUNTED' : `cannot be used (${disk.mounted})`}: its servers answer 507 and the rings' other replicas carry its load`);
    }
    const present = new Set((node.disks ?? []).map((d) => d.device));
    for (const device of node.ringDevices) {
      if (!present.has(device)) problem(`the rings place device ${device} on it, but ${node.facts?.devices ?? 'its devices root'} has no ${device}: its servers answer 507`);
    }
    for (const daemon of node.daemons ?? []) {
      if (daemon.lastError !== undefined) warning(`${daemon.name}'s latest pass failed: ${daemon.lastError}`);
      const failures = daemon.lastPass['failures'] ?? 0;
      if (failures > 0 && daemon.name.endsWith('-replicator')) warning(`${daemon.name}'s last pass had ${failures} failure(s)`);
    }
  }
  return out;
}

/** A node's ring files against the reference's. */
export function ringFindings(reference: Reference, rings: Readonly<Record<string, RingFileFacts>>): Finding[] {
  const out: Finding[] = [];
  const add = (severity: Finding['severity'], message: string): number => out.push({ node: '', severity, message });
  for (const [name, ref] of Object.entries(reference.rings)) {
    const mine = rings[name];
    if (!mine) {
      add('problem', `has no ${name} (${reference.source} has version ${ref.version ?? '?'}): copy the rings to it`);
      continue;
    }
    if (mine.error !== undefined) {
      add('problem', `cannot read its ${name}: ${mine.error}`);
      continue;
    }
    if (mine.md5 === ref.md5) continue;
    const v = mine.version;
    const rv = ref.version;
    if (v !== undefined && rv !== undefined && v < rv) add('problem', `STALE RING: its ${name} is older than ${reference.source}'s (version ${v}, not ${rv}): its replicators push data to the old layout; copy the current .ring.gz files to it`);
    else if (v !== undefined && rv !== undefined && v > rv) add('problem', `its ${name} is newer than ${reference.source}'s (version ${v}, not ${rv}): the copy in ${reference.source} is stale`);
    else add('problem', `its ${name} differs from ${reference.source}'s at the same version ${v ?? '?'} (md5 ${mine.md5}, not ${ref.md5}): built from another builder file`);
  }
  for (const name of Object.keys(rings)) {
    if (!(name in reference.rings)) add('warning', `has ${name}, which ${reference.source} does not`);
  }
  return out;
}

/** The proxy's own view: up, and running the rings its files hold. */
export function proxyFindings(reference: Reference, proxy: ProxyView): Finding[] {
  if (!proxy.up) return [{ node: proxy.name, severity: 'problem', message: `DOWN: ${proxy.ip}:${proxy.port}/healthcheck does not answer (${proxy.error ?? 'no answer'})` }];
  const out: Finding[] = [];
  for (const [file, facts] of Object.entries(reference.rings)) {
    const loaded = proxy.loadedRings?.[file.replace(/\.ring\.gz$/, '')];
    if (loaded !== undefined && facts.version !== undefined && loaded !== facts.version) {
      out.push({ node: proxy.name, severity: 'warning', message: `runs ${file} version ${loaded} while its file is version ${facts.version} (it reloads within 15 s; a bad file is not loaded)` });
    }
  }
  if ((proxy.errorLimitedNodes ?? 0) > 0) out.push({ node: proxy.name, severity: 'warning', message: `skips ${proxy.errorLimitedNodes} storage device(s) for their errors (error-limited)` });
  return out;
}

function majority(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** With no rings here, what most nodes hold (a stale minority still shows). */
function majorityRings(nodes: readonly NodeView[]): Reference {
  const rings: Record<string, RingFileFacts> = {};
  const names = new Set(nodes.flatMap((n) => Object.keys(n.rings ?? {})));
  for (const name of names) {
    const md5 = majority(nodes.map((n) => n.rings?.[name]?.md5).filter((m): m is string => m !== undefined));
    const facts = nodes.map((n) => n.rings?.[name]).find((f) => f?.md5 === md5);
    if (facts) rings[name] = facts;
  }
  return { source: 'most nodes', rings };
}
