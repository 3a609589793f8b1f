#!/usr/bin/env node
/**
 * The `swiftlet` command: one entry point for operators.
 *
 *   swiftlet aio [--data DIR] [--port 8080]     a whole cluster on this machine
 *   swiftlet start storage|proxy|identity|image|network|compute|compute-agent|volume --config FILE  one role of a real node
 *   swiftlet identity-manage fernet_setup|fernet_rotate   the identity tokens' key repository
 *   swiftlet once <daemon>|all, swiftlet status   daemons on demand; the cluster checked at a glance
 *   swiftlet ring ...                           build and inspect rings (like swift-ring-builder)
 *   swiftlet bench <scenario> ...               throughput harness for any Swift endpoint
 */
// First: it sets a V8 flag that must precede everything else (see the file).
import './proxy-gc-flag.ts';
// Then the compile cache, before any command's modules load (see the file).
import './compile-cache.ts';
import { splitArgs, unknownFlag } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { SwiftError } from '../common/errors.ts';

// Each command's modules load only when it runs: a process started for one role would
// otherwise strip the types of, compile and keep every other role's code (docs/decisions.md).

const HELP = `usage: swiftlet <command> [args]

  aio [--data DIR] [--port PORT]       start a cluster on 127.0.0.1: proxy on PORT (8080), 4 storage nodes,
      [--identity-port PORT]           the identity service on PORT (5000) with <DIR>/etc/clouds.yaml,
      [--image-port PORT]              the image service (Glance v2) on PORT (9292),
      [--network-port PORT]            the network service (Neutron v2.0) on PORT (9696),
      [--compute-port PORT]            the compute API (Nova v2.1) on PORT (8774),
      [--volume-port PORT]             the volume service (Cinder v3) on PORT (8776),
      [--storage-port-base N]          data in DIR (./data); Ctrl-C stops it. Storage ports N+10..N+42
                                       (6310-6342), chosen when the cluster is first created
      [--storage-processes N]          the storage nodes run in N processes (1-4; default one per
                                       two cores)
      [--proxy-workers N]              proxy worker processes (1-64; a new cluster: one per two cores)
      [--no-daemons]                   daemons only run through \`swiftlet once\` (for tests)
  start storage|proxy|identity|image|network|compute|compute-agent|volume --config FILE
                                       run one role of a node (storage: [--no-daemons]
                                       [--compute-agent FILE]; --config
                                       again for more nodes in the same process)
  identity-manage fernet_setup|fernet_rotate --key-repository DIR
                                       the identity tokens' key repository (as keystone-manage)
  once <daemon>|all [--data DIR | --config FILE]
                                       run daemons once on running nodes (updaters, replicators,
                                       auditors, expirer, reaper) and wait for them
  status [--data DIR | --config FILE... | --swift-dir DIR] [--json]
                                       every storage node in the rings (or the configs given),
                                       asked over recon: up/down, rings and hash-path secret
                                       against this machine's (a proxy config's, if given),
                                       placement, unmounted devices, disk use, async pendings,
                                       quarantined, replication; exits 1 naming each problem
  ring ...                             build and inspect rings (swiftlet ring help)
  bench <scenario> --auth URL ...      measure a Swift endpoint's throughput (swiftlet bench --help)`;

/** The options each cluster command takes: `value` ones take an argument, `bare` ones do not. */
const COMMAND_FLAGS = {
  aio: { value: ['data', 'port', 'identity-port', 'image-port', 'network-port', 'compute-port', 'volume-port', 'storage-port-base', 'storage-processes', 'proxy-workers'], bare: ['no-daemons'] },
  once: { value: ['config', 'data'], bare: [] },
  status: { value: ['config', 'data', 'swift-dir'], bare: ['json'] },
  start: { value: ['config', 'compute-agent'], bare: ['no-daemons'] },
} as const satisfies Record<string, { value: readonly string[]; bare: readonly string[] }>;

type Io = { out: (l: string) => void; err: (l: string) => void };

async function aio(flags: ReadonlyMap<string, string>, io: Io): Promise<number> {
  const port = Number(flags.get('port') ?? 8080);
  const identityPort = Number(flags.get('identity-port') ?? 5000);
  if (!Number.isInteger(identityPort) || identityPort < 1 || identityPort > 65535 || identityPort === port) {
    io.err(`invalid --identity-port ${flags.get('identity-port')}`);
    return 2;
  }
  // The services' ports: each its own, none the proxy's or another service's.
  const taken = [port, identityPort];
  const servicePort = (name: string, fallback: number): number | undefined => {
    const value = Number(flags.get(`${name}-port`) ?? fallback);
    if (!Number.isInteger(value) || value < 1 || value > 65535 || taken.includes(value)) {
      io.err(`invalid --${name}-port ${flags.get(`${name}-port`)}`);
      return undefined;
    }
    taken.push(value);
    return value;
  };
  const imagePort = servicePort('image', 9292);
  if (imagePort === undefined) return 2;
  const networkPort = servicePort('network', 9696);
  if (networkPort === undefined) return 2;
  const computePort = servicePort('compute', 8774);
  if (computePort === undefined) return 2;
  const volumePort = servicePort('volume', 8776);
  if (volumePort === undefined) return 2;
  const storagePortBase = Number(flags.get('storage-port-base') ?? 6300);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(storagePortBase) || storagePortBase < 1024 || storagePortBase > 65000) {
    io.err(`invalid --port ${flags.get('port')} or --storage-port-base ${flags.get('storage-port-base')}`);
    return 2;
  }
  const { defaultStorageProcesses, runAio } = await import('./aio.ts');
  const storageProcesses = Number(flags.get('storage-processes') ?? defaultStorageProcesses());
  if (!Number.isInteger(storageProcesses) || storageProcesses < 1 || storageProcesses > 4) {
    io.err(`invalid --storage-processes ${flags.get('storage-processes')}: 1 to 4`);
    return 2;
  }
  const workersFlag = flags.get('proxy-workers');
  const proxyWorkers = workersFlag === undefined ? undefined : Number(workersFlag);
  if (proxyWorkers !== undefined && (!Number.isInteger(proxyWorkers) || proxyWorkers < 1 || proxyWorkers > 64)) {
    io.err(`invalid --proxy-workers ${workersFlag}: 1 to 64`);
    return 2;
  }
  return await runAio({ data: flags.get('data') ?? 'data', port, identityPort, imagePort, networkPort, computePort, volumePort, storagePortBase, storageProcesses, ...(proxyWorkers !== undefined ? { proxyWorkers } : {}), noDaemons: flags.has('no-daemons'), clock: systemClock, out: io.out });
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { out: (l: string) => process.stdout.write(`${l}\n`), err: (l: string) => process.stderr.write(`${l}\n`), clock: systemClock };
  try {
    switch (command) {
      case 'ring':
        return await (await import('../ring/cli.ts')).runRingCommand(rest, io);
      case 'bench':
        return await (await import('../bench/cli.ts')).runBenchCommand(rest, { ...io, progress: process.stderr });
      case 'identity-manage':
        return (await import('./identity-manage.ts')).runIdentityManage(rest, io);
      case 'aio':
      case 'once':
      case 'status':
      case 'start': {
        const spec = COMMAND_FLAGS[command];
        const { positional, flags, repeated } = splitArgs(rest, new Set(spec.value));
        if (flags.has('help')) {
          io.out(HELP);
          return 0;
        }
        const unknown = unknownFlag(flags, [...spec.value, ...spec.bare]);
        if (unknown !== undefined) {
          io.err(`swiftlet ${command}: unknown option --${unknown}\n${HELP}`);
          return 2;
        }
        if (command === 'aio') return await aio(flags, io);
        if (command === 'once') return await (await import('./once.ts')).runOnce(positional[0], flags, io);
        if (command === 'status') return await (await import('./status.ts')).runStatus(flags, repeated, io, systemClock.now());
        const computeAgent = flags.get('compute-agent');
        const { start } = await import('./start.ts');
        return await start(positional[0], repeated.get('config') ?? [], io, { noDaemons: flags.has('no-daemons'), ...(computeAgent !== undefined ? { computeAgent } : {}) });
      }
      case undefined:
      case 'help':
      case '--help':
        io.out(HELP);
        return command === undefined ? 2 : 0;
      default:
        io.err(`unknown command ${JSON.stringify(command)}\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof SwiftError) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
