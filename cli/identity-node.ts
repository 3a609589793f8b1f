import { type Clock, systemClock } from '../common/clock.ts';
import type { ConfigsOf } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { listen } from '../common/http/server.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { untilCluster } from './until-cluster.ts';
import { FernetKeyRepository } from '../common/token/key-repository.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { SwiftRecordStore } from '../client/swift-record-store.ts';
import { bootstrap, type CatalogEntry } from '../identity/bootstrap.ts';
import { identitySchema } from '../identity/config.ts';
import { grantRevocationReaders, parseRevocationReaders } from '../identity/revocation-readers.ts';
import { IdentityService } from '../identity/service.ts';
import { servicePublicUrl } from './service-public-url.ts';

/** The sections of an identity node's config file. */
export const identityNodeSchemas = { identity: identitySchema } as const;
export type IdentityNodeConfig = ConfigsOf<typeof identityNodeSchemas>;

/** The catalog bootstrap ensures: identity itself, and the object store, image, compute, network and volume services when their URLs are set. */
export function bootstrapCatalog(config: IdentityNodeConfig['identity'], publicUrl: string): CatalogEntry[] {
  const entries: CatalogEntry[] = [{ type: 'identity', name: 'keystone', description: 'Identity', urls: { public: `${publicUrl}/v3`, internal: `${publicUrl}/v3`, admin: `${publicUrl}/v3` } }];
  const proxy = config.object_store_url.replace(/\/+$/, '');
  if (proxy !== '') entries.push({ type: 'object-store', name: 'swift', description: 'Object Storage', urls: { public: `${proxy}/v1/AUTH_$(project_id)s`, internal: `${proxy}/v1/AUTH_$(project_id)s`, admin: proxy } });
  const image = config.image_url.replace(/\/+$/, '');
  if (image !== '') entries.push({ type: 'image', name: 'glance', description: 'Image', urls: { public: image, internal: image, admin: image } });
  const compute = config.compute_url.replace(/\/+$/, '');
  if (compute !== '') entries.push({ type: 'compute', name: 'nova', description: 'Compute', urls: { public: `${compute}/v2.1`, internal: `${compute}/v2.1`, admin: `${compute}/v2.1` } });
  const network = config.network_url.replace(/\/+$/, '');
  if (network !== '') entries.push({ type: 'network', name: 'neutron', description: 'Neutron Networking', urls: { public: network, internal: network, admin: network } });
  const volume = config.volume_url.replace(/\/+$/, '');
  if (volume !== '') {
    // Cinder's two catalog types: volumev3 (cinderv3, what older clients look for) and block-storage (cinder).
    const urls = { public: `${volume}/v3/$(project_id)s`, internal: `${volume}/v3/$(project_id)s`, admin: `${volume}/v3/$(project_id)s` };
    entries.push({ type: 'volumev3', name: 'cinderv3', description: 'Cinder Volume Service V3', urls }, { type: 'block-storage', name: 'cinder', description: 'Block Storage', urls });
  }
  return entries;
}

/** The services' users the config gives passwords for (devstack's names). */
export function serviceUsers(config: IdentityNodeConfig['identity']): { user: string; password: string }[] {
  const all = [
    { user: 'nova', password: config.nova_password },
    { user: 'neutron', password: config.neutron_password },
    { user: 'glance', password: config.glance_password },
    { user: 'cinder', password: config.cinder_password },
  ];
  return all.filter((u) => u.password !== '');
}

/**
 * One identity process: Keystone's v3 API on `bind_ip:bind_port`, its state in the cluster
 * (the system account of `account_user`), tokens from `key_repository`. Bootstraps on start
 * (identity/bootstrap.ts) once the cluster answers.
 */
export async function runIdentity(config: IdentityNodeConfig, options: { clock?: Clock; logger?: Logger } = {}): Promise<{ port: number; service: IdentityService; close(): Promise<void> }> {
  const c = config.identity;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: c.log_level, clock, fields: { server: 'identity' } });
  if (c.account_key === '') throw new ConfigError('identity.account_key', '', 'required: the key of the system account user (account_user)');
  if (c.admin_password === '') throw new ConfigError('identity.admin_password', '', "required: the bootstrap admin's password");
  const keys = new FernetKeyRepository(c.key_repository, clock);
  const http = new UndiciBackendClient({ connectTimeoutMs: 2000, nodeTimeoutMs: 15_000, connectionsPerNode: 32 });
  const client = new SwiftClient({ authUrl: c.auth_url, user: c.account_user, key: c.account_key }, { http, clock });
  const records = new SwiftRecordStore(client);
  let service: IdentityService | undefined;
  const server = await listen(
    async (req) => (service ? service.server.handle(req) : { status: 503, headers: { 'Content-Type': 'application/json' }, body: '{"error": {"code": 503, "message": "Starting.", "title": "Service Unavailable"}}' }),
    { host: c.bind_ip, port: c.bind_port, logger },
  );
  const publicUrl = servicePublicUrl(c, server.port);
  const ready = new IdentityService(
    { publicUrl, tokenExpirationSeconds: c.token_expiration, passwordHashRounds: c.password_hash_rounds, revocationPollMs: c.revocation_poll_interval * 1000 },
    { records, keys, clock, logger },
  );
  const created = await untilCluster(
    'identity',
    () =>
      bootstrap(ready.deps, {
        adminUser: c.admin_user,
        adminPassword: c.admin_password,
        adminProject: c.admin_project,
        region: c.region,
        catalog: bootstrapCatalog(c, publicUrl),
        ...(c.demo_password !== '' ? { demo: { user: 'demo', password: c.demo_password, project: 'demo' } } : {}),
        serviceUsers: serviceUsers(c),
      }),
    { clock, logger },
  );
  await untilCluster('identity', () => grantRevocationReaders(client, parseRevocationReaders(c.revocation_readers)), { clock, logger });
  if (created) logger.info('bootstrapped', { admin_user: c.admin_user, admin_project: c.admin_project, region: c.region });
  await ready.start();
  service = ready;
  logger.info('identity listening', { ip: c.bind_ip, port: server.port, public_url: publicUrl, pid: process.pid });
  return {
    port: server.port,
    service: ready,
    close: async () => {
      await server.close();
      await ready.close();
      await http.close();
    },
  };
}

