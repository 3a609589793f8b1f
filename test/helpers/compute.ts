import { type Clock, systemClock } from '../../common/clock.ts';
import { listen } from '../../common/http/server.ts';
import { createLogger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { RevocationList } from '../../common/token/revocation.ts';
import { MemoryRecordStore } from '../../client/memory-record-store.ts';
import type { RecordStore } from '../../client/record-store.ts';
import { ComputeService } from '../../compute/service.ts';
import { httpRequest } from './http.ts';
import { type JsonResponse, startIdentity, type TestIdentity } from './identity.ts';

/**
 * A compute API in this process on an ephemeral port, its records in a memory twin (or
 * `records`), beside an in-process identity service whose keys it shares (so the identity's
 * admin and demo tokens work on it).
 */
export interface TestCompute {
  readonly port: number;
  readonly url: string;
  readonly service: ComputeService;
  readonly records: RecordStore;
  readonly identity: TestIdentity;
  /** Sends a request; `body` objects go as JSON; `version` sets `OpenStack-API-Version: compute <v>`. */
  request(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; version?: string }): Promise<JsonResponse>;
  close(): Promise<void>;
}

export async function startCompute(options: { records?: RecordStore; clock?: Clock } = {}): Promise<TestCompute> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger({ level: 'error', sink: () => {} });
  const identity = await startIdentity({ clock });
  const records = options.records ?? new MemoryRecordStore();
  const service = new ComputeService({ publicUrl: '' }, { records, keys: new FernetKeyRepository(identity.keyRepository, clock), revocations: new RevocationList(), clock, logger });
  const server = await listen(service.server.handle, { host: '127.0.0.1', port: 0, logger });
  return {
    port: server.port,
    url: `http://127.0.0.1:${server.port}`,
    service,
    records,
    identity,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
      if (o.token !== undefined) headers['X-Auth-Token'] = o.token;
      if (o.version !== undefined) headers['OpenStack-API-Version'] = `compute ${o.version}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['Content-Type'] = 'application/json';
      }
      const res = await httpRequest(server.port, method, path, headers, body);
      const text = res.body.toString();
      return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
    },
    async close() {
      await server.close();
      await identity.close();
    },
  };
}
