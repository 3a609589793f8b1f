import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type Handler, type HttpServer, listen, type ServerResponse } from '../common/http/server.ts';
import { createLogger } from '../common/logger.ts';

interface Entry {
  size: number;
  etag: string;
  alive: boolean;
}

interface ContainerState {
  readonly names: string[];
  readonly entries: Map<string, Entry & { position: number }>;
  count: number;
}

const ACCOUNT = '/v1/AUTH_bench/';
const CHUNK = 4 * 1024 * 1024;
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

/**
 * A Swift endpoint that answers at once, for measuring the harness's own ceiling: it keeps
 * only object names and sizes in memory, drains PUT bodies without looking at them and
 * answers GETs from one static buffer. v1 auth at `/auth/v1.0` accepts any user. It runs in a
 * worker thread (still in process) so it has an event loop of its own and the client's loop
 * measures the client alone. GET bodies are not the bytes that were PUT, so `--verify` does
 * not apply here.
 *
 * Returns the request handler, with its own in-memory state.
 */
export function trivialSwiftHandler(): Handler {
  const containers = new Map<string, ContainerState>();
  const zeros = Buffer.alloc(CHUNK);
  const body = (size: number): Uint8Array | AsyncIterable<Uint8Array> => {
    if (size <= CHUNK) return zeros.subarray(0, size);
    return (async function* () {
      for (let left = size; left > 0; left -= CHUNK) yield zeros.subarray(0, Math.min(left, CHUNK));
    })();
  };
  return async (req): Promise<ServerResponse> => {
    if (req.path === '/auth/v1.0') {
      return { status: 200, headers: { 'X-Storage-Url': `http://${req.headers['host'] ?? '127.0.0.1'}/v1/AUTH_bench`, 'X-Auth-Token': 'AUTH_tk_trivial' } };
    }
    if (!req.path.startsWith(ACCOUNT)) return { status: 404 };
    const rest = req.path.slice(ACCOUNT.length);
    const slash = rest.indexOf('/');
    const cname = decodeURIComponent(slash === -1 ? rest : rest.slice(0, slash));
    const oname = slash === -1 ? '' : decodeURIComponent(rest.slice(slash + 1));
    const c = containers.get(cname);
    if (oname === '') {
      switch (req.method) {
        case 'PUT':
          if (!c) containers.set(cname, { names: [], entries: new Map(), count: 0 });
          return { status: c ? 202 : 201 };
        case 'HEAD':
          return c ? { status: 204, headers: { 'X-Container-Object-Count': c.count } } : { status: 404 };
        case 'DELETE':
          if (!c) return { status: 404 };
          if (c.count > 0) return { status: 409 };
          containers.delete(cname);
          return { status: 204 };
        case 'GET': {
          if (!c) return { status: 404 };
          const limit = Math.min(10_000, Number(req.query.get('limit') ?? 10_000));
          const marker = req.query.get('marker') ?? '';
          const prefix = req.query.get('prefix') ?? '';
          // Names are listed in the order they were written (no sorting: this server is
          // about speed, and the harness only needs markers to work).
          let i = marker === '' ? 0 : (c.entries.get(marker)?.position ?? c.names.length) + 1;
          const page: string[] = [];
          for (; i < c.names.length && page.length < limit; i++) {
            const n = c.names[i] as string;
            if (c.entries.get(n)?.alive && n.startsWith(prefix)) page.push(n);
          }
          if (page.length === 0) return { status: 204 };
          return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${page.join('\n')}\n` };
        }
        default:
          return { status: 405 };
      }
    }
    if (!c) return { status: 404 };
    switch (req.method) {
      case 'PUT': {
        let size = 0;
        for await (const chunk of req.body) size += (chunk as Buffer).length;
        const etag = req.headers['etag'] ?? (size === 0 ? EMPTY_MD5 : 'd41d8cd98f00b204e9800998ecf8427f');
        const old = c.entries.get(oname);
        if (old) {
          if (!old.alive) c.count++;
          Object.assign(old, { size, etag, alive: true });
        } else {
          c.entries.set(oname, { size, etag, alive: true, position: c.names.length });
          c.names.push(oname);
          c.count++;
        }
        return { status: 201, headers: { Etag: etag } };
      }
      case 'GET':
      case 'HEAD': {
        const e = c.entries.get(oname);
        if (!e?.alive) return { status: 404 };
        return { status: 200, headers: { 'Content-Length': e.size, Etag: e.etag, 'Content-Type': 'application/octet-stream' }, body: req.method === 'GET' ? body(e.size) : null };
      }
      case 'DELETE': {
        const e = c.entries.get(oname);
        if (!e?.alive) return { status: 404 };
        e.alive = false;
        c.count--;
        return { status: 204 };
      }
      default:
        return { status: 405 };
    }
  };
}

/** Starts the trivial server in this thread on a free port of 127.0.0.1. */
export function startTrivialServer(port = 0): Promise<HttpServer> {
  return listen(trivialSwiftHandler(), { host: '127.0.0.1', port, logger: createLogger({ level: 'error' }) });
}

/** Starts the trivial server in a worker thread; resolves with its port and a stop function. */
export async function startTrivialServerThread(): Promise<{ port: number; close(): Promise<void> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { trivialSwift: true } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  return {
    port,
    close: async () => {
      await worker.terminate();
    },
  };
}

if (!isMainThread && (workerData as { trivialSwift?: boolean } | null)?.trivialSwift) {
  const server = await startTrivialServer();
  parentPort?.postMessage({ port: server.port });
}
