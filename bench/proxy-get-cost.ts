/**
 * The proxy's own CPU per small object GET, without sockets: a proxy built from a running
 * cluster's `proxy.conf` handles GETs of one object in process; its backend is the cluster's
 * (undici) for each distinct request once, then the same answer again from memory. What is
 * left is the pipeline, the controllers and the info cache: the JavaScript of ours a GET runs.
 *
 *   node bench/proxy-get-cost.ts --config DATA/etc/proxy.conf --token TOKEN --path /v1/AUTH_test/c/o [--count 20000] [--rounds 5]
 *
 * Prints microseconds of CPU (user + system of this process) per GET for each round.
 */
import { Readable } from 'node:stream';
import { loadProxyConfig } from '../cli/node-config.ts';
import { splitArgs } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { hashPathFromConfig } from '../common/hash-path.ts';
import type { BackendBodyStream, BackendClient, BackendNode, BackendRequest, BackendResponse } from '../common/http/backend-client.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import type { ServerRequest } from '../common/http/server.ts';
import { createLogger } from '../common/logger.ts';
import { StoragePolicies } from '../common/storage-policy.ts';
import { ProxyServer } from '../proxy/server.ts';
import { loadRingSet } from '../ring/ring-set.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['config', 'token', 'path', 'count', 'rounds', 'log', 'listen', 'stderr']));
const config = loadProxyConfig(flags.get('config') ?? '');
const token = flags.get('token') ?? '';
const path = flags.get('path') ?? '';
const count = Number(flags.get('count') ?? 20_000);
const rounds = Number(flags.get('rounds') ?? 5);

/** The cluster's answer to each distinct request, kept after the first and given again. */
class ReplayingBackend implements BackendClient {
  private readonly real = new UndiciBackendClient();
  private readonly kept = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();

  async request(node: BackendNode, request: BackendRequest): Promise<BackendResponse> {
    const key = `${request.method} ${node.ip}:${node.port}${request.path}?${request.query ?? ''}`;
    let answer = this.kept.get(key);
    if (!answer) {
      const res = await this.real.request(node, request);
      answer = { status: res.status, headers: res.headers as Record<string, string>, body: await res.body.bytes() };
      this.kept.set(key, answer);
    }
    return { status: answer.status, headers: { ...answer.headers }, body: bodyOf(answer.body) };
  }

  async close(): Promise<void> {
    await this.real.close();
  }
}

function bodyOf(bytes: Buffer): BackendBodyStream {
  let taken = false;
  return {
    async *[Symbol.asyncIterator]() {
      if (!taken) {
        taken = true;
        yield bytes;
      }
    },
    text: async () => bytes.toString(),
    json: async () => JSON.parse(bytes.toString()) as unknown,
    bytes: async () => Buffer.from(bytes),
    dump: async () => {},
  };
}

const p = config['proxy-server'];
const hash = config['swift-hash'];
const policies = StoragePolicies.fromConfig(config['storage-policy:*']);
const lines: string[] = [];
const logger = createLogger({ level: p.log_level, fields: { server: 'proxy' }, ...(flags.has('stderr') ? {} : { sink: flags.has('log') ? (l: string) => lines.push(l) : () => {} }) });
const backend = new ReplayingBackend();
const server = new ProxyServer(
  { proxy: p, middleware: config, secret: `${hash.swift_hash_path_prefix}/${hash.swift_hash_path_suffix}`, policies },
  { clock: systemClock, logger, backend, rings: loadRingSet(p.swift_dir, hashPathFromConfig(hash), systemClock, policies), hashPath: hashPathFromConfig(hash) },
);

function request(): ServerRequest {
  return {
    method: 'GET',
    path,
    query: new URLSearchParams(''),
    rawQuery: '',
    headers: { host: '127.0.0.1:8080', 'x-auth-token': token },
    body: Readable.from([]),
    remoteAddress: '127.0.0.1',
    signal: new AbortController().signal,
  };
}

if (flags.has('listen')) {
  // Served over HTTP on that port (the backend still answered from memory) until killed.
  const { listen } = await import('../common/http/server.ts');
  await listen(server.handle, { host: '127.0.0.1', port: Number(flags.get('listen')), logger });
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  process.exit(0);
}
const first = await server.handle(request());
if (first.status !== 200) throw new Error(`GET ${path}: ${first.status}`);
for (let r = 0; r < rounds; r++) {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const res = await server.handle(request());
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    lines.length = 0;
  }
  const used = process.cpuUsage(before);
  console.log(`round ${r + 1}: ${((used.user + used.system) / count).toFixed(2)} us CPU per GET`);
}
await server.close();
