import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../common/clock.ts';
import { loadConfigFile, swiftHashSchema } from '../common/config.ts';
import { splitArgs } from '../common/cli-args.ts';
import { SwiftError } from '../common/errors.ts';
import { HashPath, hashPathFromConfig } from '../common/hash-path.ts';
import { backendPath } from '../common/http/backend-client.ts';
import { RingBuilder } from './builder.ts';
import { type Device, formatDevice, matchDevices, parseDeviceSyntax, RingError } from './device.ts';
import { readBuilderFile, readRingFile, writeBuilderFile, writeRingFile } from './io.ts';
import { Ring } from './ring.ts';
import { validateTable } from './validate.ts';

/** Where the command writes, and its clock; injected so tests can capture output. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  clock: Clock;
}

const USAGE = `usage: swiftlet ring <command> <builder_file> [args]   (or swift-ring-builder's order: <builder_file> <command> [args])

  create <builder> <part_power> <replicas> <min_part_hours>
  add <builder> r<region>z<zone>-<ip>:<port>[R<ip>:<port>]/<device>[_<meta>] <weight> [<dev> <weight> ...]
  remove <builder> <search-value> [...]        (search value: d<id>, r1z2, r1z1-10.0.0.1:6210/sdb1, ...)
  set_weight <builder> <search-value> <weight>
  set_overload <builder> <overload>             (fraction 0.1 or percent 10%)
  set_min_part_hours <builder> <hours>
  pretend_min_part_hours_passed <builder>
  rebalance <builder> [--seed N]                writes <builder> and its ring file
  write_ring <builder>
  show <builder> [--json]
  validate <builder|ring>
  dispersion <builder> [--verbose]
  get-nodes <ring> <account> [<container> [<object>]] [--all] [--json] [--config FILE]
            (the hash secret comes from --config, else swiftlet.conf beside the ring)`;

const RING_VALUE_FLAGS = new Set(['seed', 'config', 'hash-path-prefix', 'hash-path-suffix']);

const COMMANDS = new Set([
  'create', 'add', 'remove', 'set_weight', 'set_overload', 'set_min_part_hours', 'pretend_min_part_hours_passed',
  'rebalance', 'write_ring', 'show', 'validate', 'dispersion', 'get-nodes', 'get_nodes',
]);

/** `object.builder` -> `object.ring.gz`, as swift-ring-builder names it. */
export function ringFileFor(builderPath: string): string {
  const dir = dirname(builderPath);
  const name = basename(builderPath).replace(/\.builder$/, '');
  return join(dir, `${name}.ring.gz`);
}

/** Runs `swiftlet ring ...`; returns the exit code (0 ok, 1 failed/warning, 2 usage). */
export async function runRingCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { positional, flags } = splitArgs(argv, RING_VALUE_FLAGS);
  let [command, file, ...rest] = positional;
  if (command !== undefined && !COMMANDS.has(command) && file !== undefined && COMMANDS.has(file)) [command, file] = [file, command];
  if (command === undefined || command === 'help' || flags.has('help')) {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!COMMANDS.has(command)) {
    io.err(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
    return 2;
  }
  if (file === undefined) {
    io.err(`${command}: which builder or ring file?\n${USAGE}`);
    return 2;
  }
  try {
    return await dispatch(command, file, rest, flags, io);
  } catch (err) {
    if (err instanceof SwiftError) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

async function dispatch(command: string, file: string, args: string[], flags: Map<string, string>, io: CommandIo): Promise<number> {
  const save = (b: RingBuilder): Promise<void> => writeBuilderFile(file, b.toData());
  const load = (): RingBuilder => RingBuilder.fromData(readBuilderFile(file), io.clock);
  switch (command) {
    case 'create': {
      const [pp, replicas, hours] = args.map(Number);
      if (args.length !== 3 || [pp, replicas, hours].some((n) => Number.isNaN(n))) return usage(io, 'create <builder> <part_power> <replicas> <min_part_hours>');
      if (existsSync(file) && !flags.has('force')) throw new RingError('RING_BUILDER', `${file} already exists (use --force to replace it)`);
      const b = RingBuilder.create({ partPower: pp as number, replicas: replicas as number, minPartHours: hours as number }, io.clock);
      await save(b);
      io.out(`Created ${file}: ${b.partitions} partitions, ${b.replicas} replicas, min_part_hours ${b.minPartHours}`);
      return 0;
    }
    case 'add': {
      if (args.length === 0 || args.length % 2 !== 0) return usage(io, 'add <builder> r<region>z<zone>-<ip>:<port>/<device> <weight> [...]');
      const b = load();
      for (let i = 0; i < args.length; i += 2) {
        const weight = Number(args[i + 1]);
        const dev = b.addDevice(parseDeviceSyntax(args[i] as string, weight));
        io.out(`Device d${dev.id} ${formatDevice(dev)} with ${dev.weight} weight got id ${dev.id}`);
      }
      await save(b);
      return 0;
    }
    case 'remove': {
      if (args.length === 0) return usage(io, 'remove <builder> <search-value> [...]');
      const b = load();
      for (const search of args) {
        for (const dev of oneOrMore(b.devices, search)) {
          b.removeDevice(dev.id);
          io.out(`d${dev.id} ${formatDevice(dev)} marked for removal and will be removed next rebalance.`);
        }
      }
      await save(b);
      return 0;
    }
    case 'set_weight': {
      const [search, weightText] = args;
      if (search === undefined || weightText === undefined) return usage(io, 'set_weight <builder> <search-value> <weight>');
      const b = load();
      for (const dev of oneOrMore(b.devices, search)) {
        const updated = b.setWeight(dev.id, Number(weightText));
        io.out(`d${dev.id} ${formatDevice(dev)} weight set to ${updated.weight}`);
      }
      await save(b);
      return 0;
    }
    case 'set_overload': {
      const text = args[0];
      if (text === undefined) return usage(io, 'set_overload <builder> <overload>');
      const overload = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
      const b = load();
      b.setOverload(overload);
      await save(b);
      io.out(`The overload factor is now ${(overload * 100).toFixed(2)}% (${overload.toFixed(6)})`);
      return 0;
    }
    case 'set_min_part_hours': {
      const b = load();
      b.setMinPartHours(Number(args[0]));
      await save(b);
      io.out(`The minimum number of hours before a partition can be reassigned is now ${b.minPartHours}`);
      return 0;
    }
    case 'pretend_min_part_hours_passed': {
      const b = load();
      b.pretendMinPartHoursPassed();
      await save(b);
      io.out('Every partition may be reassigned at the next rebalance.');
      return 0;
    }
    case 'rebalance': {
      const b = load();
      const seedText = flags.get('seed');
      const report = b.rebalance(seedText === undefined ? {} : { seed: Number(seedText) });
      await save(b);
      await writeRingFile(ringFileFor(file), b.ringData());
      io.out(`Reassigned ${report.moved} (${((report.moved / (b.partitions * b.replicas)) * 100).toFixed(2)}%) replica assignments. Balance is now ${report.balance.toFixed(2)}. Dispersion is now ${report.dispersion.toFixed(2)}.`);
      for (const dev of report.removed) io.out(`Removed d${dev.id} ${formatDevice(dev)}.`);
      io.out(`Wrote ${ringFileFor(file)} (version ${report.version}, seed ${report.seed}).`);
      if (report.balance > 1 && b.minPartHours > 0 && b.minPartSecondsLeft() > 0) {
        io.out(`NOTE: Balance of ${report.balance.toFixed(2)} is above 1%: min_part_hours (${b.minPartHours}) kept some partitions in place; rebalance again in ${formatDuration(b.minPartSecondsLeft())}.`);
      }
      if (report.dispersion > 0) {
        const required = b.requiredOverload();
        if (required > b.overload) io.out(`NOTE: Dispersion is ${report.dispersion.toFixed(2)}%; an overload of ${(required * 100).toFixed(2)}% would keep replicas apart (set_overload).`);
      }
      return 0;
    }
    case 'write_ring': {
      const b = load();
      await writeRingFile(ringFileFor(file), b.ringData());
      io.out(`Wrote ${ringFileFor(file)} (version ${b.version}).`);
      return 0;
    }
    case 'show':
      return show(file, load(), flags.has('json'), io);
    case 'validate':
      return validate(file, io);
    case 'dispersion':
      return dispersion(load(), flags.has('verbose'), io);
    case 'get-nodes':
    case 'get_nodes':
      return getNodes(file, args, flags, io);
    default:
      return usage(io, command);
  }
}

function show(file: string, b: RingBuilder, json: boolean, io: CommandIo): number {
  const counts = b.partCounts();
  const balances = b.deviceBalances();
  const devices = b.devices;
  const regions = new Set(devices.map((d) => d.region)).size;
  const zones = new Set(devices.map((d) => `${d.region}/${d.zone}`)).size;
  const dispersion = b.dispersion().percent;
  if (json) {
    io.out(JSON.stringify({
      builder: file,
      version: b.version,
      partPower: b.partPower,
      partitions: b.partitions,
      replicas: b.replicas,
      minPartHours: b.minPartHours,
      overload: b.overload,
      balance: b.balance(),
      dispersion,
      regions,
      zones,
      devices: devices.map((d) => ({ ...d, partitions: counts.get(d.id) ?? 0, balance: balances.get(d.id) ?? 0, pendingRemoval: b.pendingRemoval.includes(d.id) })),
    }, null, 2));
    return 0;
  }
  io.out(`${file}, build version ${b.version}`);
  io.out(`${b.partitions} partitions, ${b.replicas} replicas, ${regions} regions, ${zones} zones, ${devices.length} devices, ${b.balance().toFixed(2)} balance, ${dispersion.toFixed(2)} dispersion`);
  io.out(`The minimum number of hours before a partition can be reassigned is ${b.minPartHours} (${formatDuration(b.minPartSecondsLeft())} remaining)`);
  io.out(`The overload factor is ${(b.overload * 100).toFixed(2)}% (${b.overload.toFixed(6)})`);
  const ringPath = ringFileFor(file);
  if (existsSync(ringPath)) {
    let state: string;
    try {
      state = readRingFile(ringPath).version === b.version ? 'is up-to-date' : 'is obsolete';
    } catch {
      state = 'is unreadable';
    }
    io.out(`Ring file ${ringPath} ${state}`);
  } else {
    io.out(`Ring file ${ringPath} not found`);
  }
  const rows = [['id', 'region', 'zone', 'ip address:port', 'replication ip:port', 'name', 'weight', 'partitions', 'balance', 'flags', 'meta']];
  for (const d of devices) {
    rows.push([
      String(d.id), String(d.region), String(d.zone), `${d.ip}:${d.port}`, `${d.replication_ip}:${d.replication_port}`, d.device,
      d.weight.toFixed(2), String(counts.get(d.id) ?? 0), (balances.get(d.id) ?? 0).toFixed(2), b.pendingRemoval.includes(d.id) ? 'DEL' : '', d.meta,
    ]);
  }
  io.out('Devices:');
  for (const line of table(rows)) io.out(line);
  return 0;
}

function validate(file: string, io: CommandIo): number {
  let problems: string[];
  if (file.endsWith('.ring.gz')) {
    const ring = readRingFile(file);
    problems = validateTable(ring.devices, ring.replica2part2dev, ring.replicas, ring.partPower);
  } else {
    const data = readBuilderFile(file);
    if (!data.replica2part2dev) {
      io.out(`${file} has no partitions assigned yet (never rebalanced).`);
      return 1;
    }
    problems = validateTable(data.devices, data.replica2part2dev, data.replicas, data.partPower);
  }
  for (const p of problems) io.err(`invalid: ${p}`);
  if (problems.length === 0) io.out(`${file} is valid.`);
  return problems.length === 0 ? 0 : 1;
}

function dispersion(b: RingBuilder, verbose: boolean, io: CommandIo): number {
  const report = b.dispersion();
  io.out(`Dispersion is ${report.percent.toFixed(6)}, Balance is ${b.balance().toFixed(6)}, Overload is ${(b.overload * 100).toFixed(2)}%`);
  io.out(`Required overload is ${(b.requiredOverload() * 100).toFixed(6)}%`);
  if (report.badParts > 0) io.out(`${report.badParts} of ${b.partitions} partitions have more replicas in one tier than the tiers require.`);
  const header = ['Tier', 'Parts', 'Max wanted', ...Array.from({ length: b.replicas + 1 }, (_, n) => String(n))];
  const rows = [header];
  for (const t of report.tiers) {
    if (!verbose && t.level !== 'region' && t.level !== 'zone') continue;
    const withAny = t.replicas.slice(1).reduce((a, n) => a + n, 0);
    rows.push([t.tier, String(withAny), String(t.maxWanted), ...t.replicas.map(String)]);
  }
  for (const line of table(rows)) io.out(line);
  return 0;
}

function getNodes(file: string, args: string[], flags: Map<string, string>, io: CommandIo): number {
  const [account, container, object] = args;
  if (account === undefined) return usage(io, 'get-nodes <ring> <account> [<container> [<object>]]');
  const ring = Ring.fromData(readRingFile(file), hashPathFor(file, flags));
  const { partition, nodes } = ring.getNodes(account, container, object);
  const handoffs = [...ring.moreNodes(partition)];
  const shown = flags.has('all') ? handoffs : handoffs.slice(0, ring.replicas);
  const hash = hashPathFor(file, flags).hash(account, container, object);
  const names = [account, container, object].filter((s): s is string => s !== undefined);
  const url = (d: Device): string => `http://${d.ip.includes(':') ? `[${d.ip}]` : d.ip}:${d.port}${backendPath(d.device, partition, ...names)}`;
  if (flags.has('json')) {
    io.out(JSON.stringify({ partition, hash, primaries: nodes, handoffs: shown }, null, 2));
    return 0;
  }
  io.out(`Account  \t${account}`);
  io.out(`Container\t${container ?? 'None'}`);
  io.out(`Object   \t${object ?? 'None'}`);
  io.out('');
  io.out(`Partition\t${partition}`);
  io.out(`Hash     \t${hash}`);
  io.out('');
  for (const d of nodes) io.out(`Server:Port Device\t${d.ip}:${d.port} ${d.device}`);
  for (const d of shown) io.out(`Server:Port Device\t${d.ip}:${d.port} ${d.device}\t [Handoff]`);
  io.out('');
  for (const d of nodes) io.out(`curl -I -X HEAD "${url(d)}"`);
  for (const d of shown) io.out(`curl -I -X HEAD "${url(d)}" # [Handoff]`);
  if (!flags.has('all') && handoffs.length > shown.length) io.out(`\n(${handoffs.length - shown.length} more handoffs: --all shows them)`);
  return 0;
}

/** The hash secret for get-nodes: --config FILE, else swiftlet.conf beside the ring. */
function hashPathFor(ringFile: string, flags: Map<string, string>): HashPath {
  const prefix = flags.get('hash-path-prefix');
  const suffix = flags.get('hash-path-suffix');
  if (prefix !== undefined || suffix !== undefined) return new HashPath(prefix ?? '', suffix ?? '');
  const config = flags.get('config') ?? join(dirname(ringFile), 'swiftlet.conf');
  if (!existsSync(config)) {
    throw new RingError('RING_BUILDER', `no hash path secret: pass --config FILE (with a [swift-hash] section) or put swiftlet.conf beside ${ringFile}`);
  }
  return hashPathFromConfig(loadConfigFile(config, { 'swift-hash': swiftHashSchema })['swift-hash']);
}

function oneOrMore(devices: readonly Device[], search: string): Device[] {
  const found = matchDevices(devices, search);
  if (found.length === 0) throw new RingError('RING_BUILDER', `no device matches ${JSON.stringify(search)}`);
  return found;
}

function usage(io: CommandIo, what: string): number {
  io.err(`usage: swiftlet ring ${what}`);
  return 2;
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** Right-aligned columns, like swift-ring-builder's device table. */
function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows.map((row) => row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ').trimEnd());
}
