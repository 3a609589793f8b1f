import { join } from 'node:path';
import { type Clock, systemClock } from '../../common/clock.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { listen } from '../../common/http/server.ts';
import { createLogger } from '../../common/logger.ts';
import { FernetKeyRepository, fernetSetup } from '../../common/token/key-repository.ts';
import { MemoryRecordStore } from '../../client/memory-record-store.ts';
import type { RecordStore } from '../../client/record-store.ts';
import { SwiftClient } from '../../client/swift-client.ts';
import { SwiftRecordStore } from '../../client/swift-record-store.ts';
import { bootstrap } from '../../identity/bootstrap.ts';
import { identitySchema } from '../../identity/config.ts';
import { grantRevocationReaders, parseRevocationReaders } from '../../identity/revocation-readers.ts';
import { IdentityService } from '../../identity/service.ts';
import type { TestCluster } from './cluster.ts';
import { httpRequest } from './http.ts';
import { makeTempDir } from './tmpdir.ts';

export const ADMIN_PASSWORD = 'secrete';
export const DEMO_PASSWORD = 'demo-secret';

export interface JsonResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** The parsed JSON body (undefined when empty); tests read Keystone's nested bodies freely. */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the service answered
  readonly json: any;
}

/**
 * An identity service in this process on an ephemeral port of 127.0.0.1, bootstrapped (admin
 * with `ADMIN_PASSWORD`, demo with `DEMO_PASSWORD`), its records in `cluster`'s system account
 * `AUTH_.identity` (the cluster must have the user `.identity:identity` / `identity-key`) or,
 * without a cluster, in a memory twin (or `records`, to share one between two services; give
 * them one `keyRepository` too and each validates the other's tokens). Password hashes use the
 * cheapest allowed cost.
 */
export interface TestIdentity {
  readonly port: number;
  readonly url: string;
  readonly service: IdentityService;
  readonly records: RecordStore;
  readonly keyRepository: string;
  /** Sends a request; `body` objects go as JSON. */
  request(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<JsonResponse>;
  /** A token for `user` (default admin) by password, scoped as asked (default: the user's project; `null`: unscoped). */
  token(options?: { user?: string; password?: string; domain?: string; scope?: unknown }): Promise<string>;
  close(): Promise<void>;
}

export const IDENTITY_ACCOUNT_USERS = { 'user_.identity_identity': 'identity-key .admin' };

export async function startIdentity(options: { cluster?: TestCluster; records?: RecordStore; keyRepository?: string; clock?: Clock; expirationSeconds?: number; serviceUsers?: readonly { user: string; password: string }[] } = {}): Promise<TestIdentity> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger({ level: 'error', sink: () => {} });
  const dir = await makeTempDir('identity-keys-');
  const keyRepository = options.keyRepository ?? join(dir.path, 'fernet-keys');
  fernetSetup(keyRepository);
  const http = new UndiciBackendClient();
  const client = options.cluster ? new SwiftClient({ authUrl: `http://127.0.0.1:${options.cluster.port}/auth/v1.0`, user: '.identity:identity', key: 'identity-key' }, { http, clock }) : undefined;
  const records: RecordStore = options.records ?? (client ? new SwiftRecordStore(client) : new MemoryRecordStore());
  // As runIdentity does: the services' accounts may read the revocation events.
  if (client) await grantRevocationReaders(client, parseRevocationReaders(identitySchema.revocation_readers.default));
  let service: IdentityService | undefined;
  const server = await listen((req) => (service as IdentityService).server.handle(req), { host: '127.0.0.1', port: 0, logger });
  const url = `http://127.0.0.1:${server.port}`;
  service = new IdentityService(
    { publicUrl: url, tokenExpirationSeconds: options.expirationSeconds ?? 3600, passwordHashRounds: 10, revocationPollMs: 200 },
    { records, keys: new FernetKeyRepository(keyRepository, clock), clock, logger },
  );
  await bootstrap(service.deps, {
    adminUser: 'admin',
    adminPassword: ADMIN_PASSWORD,
    adminProject: 'admin',
    region: 'RegionOne',
    catalog: [
      { type: 'identity', name: 'keystone', description: 'Identity', urls: { public: `${url}/v3`, internal: `${url}/v3`, admin: `${url}/v3` } },
      { type: 'object-store', name: 'swift', description: 'Object Storage', urls: { public: 'http://127.0.0.1:8080/v1/AUTH_$(project_id)s', internal: 'http://127.0.0.1:8080/v1/AUTH_$(project_id)s', admin: 'http://127.0.0.1:8080' } },
    ],
    demo: { user: 'demo', password: DEMO_PASSWORD, project: 'demo' },
    ...(options.serviceUsers ? { serviceUsers: options.serviceUsers } : {}),
  });
  await service.start();
  const running = service;
  const identity: TestIdentity = {
    port: server.port,
    url,
    service: running,
    records,
    keyRepository,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
      if (o.token !== undefined) headers['X-Auth-Token'] = o.token;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['Content-Type'] = 'application/json';
      }
      const res = await httpRequest(server.port, method, path, headers, body);
      const text = res.body.toString();
      return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
    },
    async token(o = {}) {
      const user = o.user ?? 'admin';
      const scope = 'scope' in o ? o.scope : { project: { name: user === 'admin' ? 'admin' : user, domain: { name: 'Default' } } };
      const res = await identity.request('POST', '/v3/auth/tokens', {
        body: { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: o.domain ?? 'Default' }, password: o.password ?? (user === 'admin' ? ADMIN_PASSWORD : DEMO_PASSWORD) } } }, ...(scope === null ? {} : { scope }) } },
      });
      if (res.status !== 201) throw new Error(`token for ${user}: ${res.status} ${JSON.stringify(res.json)}`);
      return res.headers['x-subject-token'] as string;
    },
    async close() {
      await server.close();
      await running.close();
      await http.close();
      await dir.remove();
    },
  };
  return identity;
}
