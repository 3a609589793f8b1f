import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Clock } from '../common/clock.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { fernetSetup } from '../common/token/key-repository.ts';
import type { AioLayout } from './aio-setup.ts';
import { newPassword } from './new-password.ts';
import { pause } from './wait-for-ports.ts';

/** Where the all-in-one cluster keeps identity's files, under `<data>/etc`. */
export function aioIdentityFiles(layout: AioLayout): { config: string; keys: string; clouds: string } {
  return { config: join(layout.etc, 'identity.conf'), keys: join(layout.etc, 'fernet-keys'), clouds: join(layout.etc, 'clouds.yaml') };
}

/** identity.conf's keys with the services' users' passwords (identity/config.ts). */
const SERVICE_PASSWORD_KEYS = ['nova_password', 'neutron_password', 'glance_password', 'cinder_password'] as const;

/** The password identity.conf gives a service user (`nova`, ...), for the service's own config. */
export async function aioServicePassword(layout: AioLayout, user: 'nova' | 'neutron' | 'glance' | 'cinder'): Promise<string> {
  const config = await readFile(aioIdentityFiles(layout).config, 'utf8');
  return new RegExp(`^${user}_password = (.*)$`, 'm').exec(config)?.[1] ?? '';
}

/** The default identity port of `swiftlet aio` (Keystone's). */
export const DEFAULT_IDENTITY_PORT = 5000;

/**
 * The all-in-one cluster's identity service, made on the first start that has it (clusters
 * made before it get it then too): its config with a random account key and admin and demo
 * passwords, the tempauth owner of its system account `AUTH_.identity` in the proxy's config
 * (same key), a Fernet key repository (which the proxy's `[keystoneauth]` reads too), and
 * `clouds.yaml` with an admin and a demo cloud. Every
 * start puts `port` (and the proxy's) into the configs and `clouds.yaml`.
 */
export async function setupAioIdentity(layout: AioLayout, options: { port: number; proxyPort: number; networkPort?: number }): Promise<void> {
  const files = aioIdentityFiles(layout);
  if (!existsSync(files.config)) {
    const key = randomBytes(18).toString('base64url');
    await writeFile(files.config, [
      '[identity]',
      'bind_ip = 127.0.0.1',
      `bind_port = ${options.port}`,
      `public_url = http://127.0.0.1:${options.port}`,
      `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`,
      'account_user = .identity:identity',
      `account_key = ${key}`,
      `key_repository = ${files.keys}`,
      `admin_password = ${newPassword()}`,
      `demo_password = ${newPassword()}`,
      `object_store_url = http://127.0.0.1:${options.proxyPort}`,
      '',
    ].join('\n'), { mode: 0o600 });
    const proxy = await readFile(layout.proxyConfig, 'utf8');
    // The owner of identity's system account: only this user (not even reseller admins) reaches it.
    await writeFile(layout.proxyConfig, proxy.replace(/^\[tempauth\]$/m, `[tempauth]\nuser_.identity_identity = ${key} .admin`));
  }
  fernetSetup(files.keys);
  const proxyConf = await readFile(layout.proxyConfig, 'utf8');
  // Keystone tokens at the proxy (Swift's keystoneauth), validated with this key repository; a
  // cluster made before keystoneauth gets the section on its next start.
  if (!/^\[keystoneauth\]$/m.test(proxyConf)) {
    await writeFile(layout.proxyConfig, `${proxyConf.trimEnd()}\n\n${['[keystoneauth]', 'reseller_prefix = AUTH, SERVICE', 'operator_roles = admin, member', 'SERVICE_service_roles = service', `key_repository = ${files.keys}`, ''].join('\n')}`);
  }
  let config = await readFile(files.config, 'utf8');
  // The services' own users (bootstrap makes them): a password each, made once; a cluster made
  // before service users gets them on its next start.
  for (const key of SERVICE_PASSWORD_KEYS) {
    if (!new RegExp(`^${key} = `, 'm').test(config)) config = config.replace(/^\[identity\]$/m, `[identity]\n${key} = ${randomBytes(12).toString('base64url')}`);
  }
  config = config
    .replace(/^bind_port = \d+$/m, `bind_port = ${options.port}`)
    .replace(/^public_url = .*$/m, `public_url = http://127.0.0.1:${options.port}`)
    .replace(/^auth_url = .*$/m, `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`)
    .replace(/^network_url = .*\n/m, '');
  // The network service's catalog entry follows its port on every start (bootstrap adds it).
  if (options.networkPort !== undefined) config = config.replace(/^object_store_url = /m, `network_url = http://127.0.0.1:${options.networkPort}\nobject_store_url = `);
  await writeFile(files.config, config, { mode: 0o600 });
  const value = (k: string): string => new RegExp(`^${k} = (.*)$`, 'm').exec(config)?.[1] ?? '';
  await writeFile(files.clouds, cloudsYaml(`http://127.0.0.1:${options.port}/v3`, value('admin_password'), value('demo_password')), { mode: 0o600 });
}

function cloudsYaml(authUrl: string, adminPassword: string, demoPassword: string): string {
  const cloud = (username: string, password: string, project: string) => ({
    auth: { auth_url: authUrl, username, password, project_name: project, user_domain_name: 'Default', project_domain_name: 'Default' },
    region_name: 'RegionOne',
    identity_api_version: 3,
  });
  return stringify({ clouds: { 'swiftlet-admin': cloud('admin', adminPassword, 'admin'), 'swiftlet-demo': cloud('demo', demoPassword, 'demo') } });
}

/** Waits until identity answers `GET /v3` with 200 (it answers 503 while it bootstraps). */
/**
 * Points identity's catalog entry for a service at this start's port: `<key> = http://127.0.0.1:<port>`
 * in its `[identity]` section (bootstrap adds the entry at identity's start).
 */
export async function setIdentityServiceUrl(layout: AioLayout, key: string, port: number): Promise<void> {
  const path = aioIdentityFiles(layout).config;
  const config = await readFile(path, 'utf8');
  const line = `${key} = http://127.0.0.1:${port}`;
  const pattern = new RegExp(`^${key} = .*$`, 'm');
  await writeFile(path, pattern.test(config) ? config.replace(pattern, line) : config.replace(/^\[identity\]$/m, `[identity]\n${line}`), { mode: 0o600 });
}

export async function waitForIdentity(port: number, timeoutMs: number, clock: Clock, signal?: AbortSignal): Promise<boolean> {
  const http = new UndiciBackendClient({ connectTimeoutMs: 500, nodeTimeoutMs: 5000 });
  const deadline = clock.monotonic() + timeoutMs;
  try {
    while (clock.monotonic() < deadline && !signal?.aborted) {
      try {
        const res = await http.request({ ip: '127.0.0.1', port }, { method: 'GET', path: '/v3' });
        await res.body.dump();
        if (res.status === 200) return true;
      } catch {
        // Not listening yet.
      }
      if (!(await pause(clock, 200, signal))) return false;
    }
    return false;
  } finally {
    await http.close();
  }
}
