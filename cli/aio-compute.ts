import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aioIdentityFiles, aioServicePassword, setIdentityServiceUrl } from './aio-identity.ts';
import type { AioLayout } from './aio-setup.ts';

/** The default compute API port of `swiftlet aio` (Nova's). */
export const DEFAULT_COMPUTE_PORT = 8774;

export function aioComputeConfig(layout: AioLayout): string {
  return join(layout.etc, 'compute.conf');
}

/** The agent config of storage process `n` (1-based): compute host `aio-<n>`. */
export function aioComputeAgentConfig(layout: AioLayout, n: number): string {
  return join(layout.etc, `compute-agent${n}.conf`);
}

/**
 * The all-in-one cluster's compute API, made on the first start that has it (as identity's is):
 * its config with a random account key, the tempauth owner of its system account
 * `AUTH_.compute` in the proxy's config (same key), and `compute_url` in identity's config so
 * bootstrap puts it in the catalog. Every start puts `port` (and the proxy's, identity's,
 * image's and network's, and nova's password) into the configs and writes one compute agent
 * config per storage process (`agents`): host `aio-<n>`.
 */
export async function setupAioCompute(layout: AioLayout, options: { port: number; proxyPort: number; agents: number; identityPort: number; imagePort?: number; networkPort?: number; volumePort?: number }): Promise<void> {
  // The services a boot calls, at the ports this start gives them, and compute's own Keystone
  // user (bootstrap makes nova with identity.conf's password), which binds ports.
  const services = [
    `image_url = http://127.0.0.1:${options.imagePort ?? 9292}`,
    `network_url = http://127.0.0.1:${options.networkPort ?? 9696}`,
    `volume_url = http://127.0.0.1:${options.volumePort ?? 8776}`,
    `identity_url = http://127.0.0.1:${options.identityPort}/v3`,
    'service_user = nova',
    `service_password = ${await aioServicePassword(layout, 'nova')}`,
  ];
  // Nova's default (false) sends a resize to another host; an aio with one agent (one storage
  // process, as on a 2-core machine) has none, so there a resize stays on its host.
  const sameHost = options.agents === 1 ? 'allow_resize_to_same_host = true\n' : '';
  const path = aioComputeConfig(layout);
  const identity = aioIdentityFiles(layout);
  if (!existsSync(path)) {
    const key = randomBytes(18).toString('base64url');
    await writeFile(path, [
      '[compute]',
      'bind_ip = 127.0.0.1',
      `bind_port = ${options.port}`,
      `public_url = http://127.0.0.1:${options.port}`,
      `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`,
      'account_user = .compute:compute',
      `account_key = ${key}`,
      `key_repository = ${identity.keys}`,
      '',
    ].join('\n'), { mode: 0o600 });
    const proxy = await readFile(layout.proxyConfig, 'utf8');
    // The owner of compute's system account: only this user (not even reseller admins) reaches it.
    await writeFile(layout.proxyConfig, proxy.replace(/^\[tempauth\]$/m, `[tempauth]\nuser_.compute_compute = ${key} .admin`));
  }
  const config = (await readFile(path, 'utf8'))
    .replace(/^(image_url|network_url|volume_url|identity_url|service_user|service_password|allow_resize_to_same_host) = .*\n/gm, '')
    .replace(/^\[compute\]\n/m, `[compute]\n${services.join('\n')}\n${sameHost}`)
    .replace(/^bind_port = \d+$/m, `bind_port = ${options.port}`)
    .replace(/^public_url = .*$/m, `public_url = http://127.0.0.1:${options.port}`)
    .replace(/^auth_url = .*$/m, `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`);
  await writeFile(path, config, { mode: 0o600 });
  const key = /^account_key = (.*)$/m.exec(config)?.[1] ?? '';
  for (let n = 1; n <= options.agents; n++) {
    // libvirt's test driver, in the storage process: the real driver and domain XML without
    // guests (docs/decisions.md, "The compute API and agents").
    await writeFile(aioComputeAgentConfig(layout, n), [
      '[compute-agent]',
      `host = aio-${n}`,
      'host_ip = 127.0.0.1',
      `state_dir = ${join(layout.data, 'instances', `aio-${n}`)}`,
      'hypervisor = libvirt',
      'libvirt_uri = test:///default',
      'virt_type = qemu',
      // test:///default's guests end with the storage process: a restarted aio boots again the
      // servers that ran, so every server is as it was.
      'resume_guests_state_on_host_boot = true',
      `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`,
      ...services,
      'account_user = .compute:compute',
      `account_key = ${key}`,
      '',
    ].join('\n'), { mode: 0o600 });
  }
  await setIdentityServiceUrl(layout, 'compute_url', options.port);
}
