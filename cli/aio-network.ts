import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AioLayout } from './aio-setup.ts';

/** The default network port of `swiftlet aio` (Neutron's). */
export const DEFAULT_NETWORK_PORT = 9696;

export function aioNetworkConfig(layout: AioLayout): string {
  return join(layout.etc, 'network.conf');
}

/**
 * The all-in-one cluster's network service, made on the first start that has it (as identity's
 * is): its config with a random account key, and the tempauth owner of its system account
 * `AUTH_.network` in the proxy's config (same key). Every start puts the ports into its config.
 */
export async function setupAioNetwork(layout: AioLayout, options: { port: number; proxyPort: number; identityPort: number; keyRepository: string }): Promise<void> {
  const path = aioNetworkConfig(layout);
  if (!existsSync(path)) {
    const key = randomBytes(18).toString('base64url');
    await writeFile(path, [
      '[network]',
      'bind_ip = 127.0.0.1',
      `bind_port = ${options.port}`,
      `public_url = http://127.0.0.1:${options.port}`,
      `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`,
      'account_user = .network:network',
      `account_key = ${key}`,
      `key_repository = ${options.keyRepository}`,
      `identity_url = http://127.0.0.1:${options.identityPort}/v3`,
      '',
    ].join('\n'), { mode: 0o600 });
    const proxy = await readFile(layout.proxyConfig, 'utf8');
    // The owner of the network service's system account: only this user reaches it.
    await writeFile(layout.proxyConfig, proxy.replace(/^\[tempauth\]$/m, `[tempauth]\nuser_.network_network = ${key} .admin`));
  }
  const config = (await readFile(path, 'utf8'))
    .replace(/^bind_port = \d+$/m, `bind_port = ${options.port}`)
    .replace(/^public_url = .*$/m, `public_url = http://127.0.0.1:${options.port}`)
    .replace(/^auth_url = .*$/m, `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`)
    .replace(/^identity_url = .*$/m, `identity_url = http://127.0.0.1:${options.identityPort}/v3`);
  await writeFile(path, config, { mode: 0o600 });
}
