import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aioIdentityFiles, setIdentityServiceUrl } from './aio-identity.ts';
import type { AioLayout } from './aio-setup.ts';

/** The default image port of `swiftlet aio` (Glance's). */
export const DEFAULT_IMAGE_PORT = 9292;

export function aioImageConfig(layout: AioLayout): string {
  return join(layout.etc, 'image.conf');
}

/**
 * The all-in-one cluster's image service, made on the first start that has it (clusters made
 * before get it then): its config with a random account key, the tempauth owner of its system
 * account `AUTH_.image` in the proxy's config (same key), identity's key repository for tokens.
 * Every start puts `port` (and the proxy's) into its config and the image entry into
 * identity's (`image_url`), so the catalog has `image` (bootstrap adds it at identity's start).
 * Run after `setupAioIdentity`.
 */
export async function setupAioImage(layout: AioLayout, options: { port: number; proxyPort: number }): Promise<void> {
  const path = aioImageConfig(layout);
  const identity = aioIdentityFiles(layout);
  if (!existsSync(path)) {
    const key = randomBytes(18).toString('base64url');
    await writeFile(path, [
      '[image]',
      'bind_ip = 127.0.0.1',
      `bind_port = ${options.port}`,
      `public_url = http://127.0.0.1:${options.port}`,
      `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`,
      'account_user = .image:glance',
      `account_key = ${key}`,
      `key_repository = ${identity.keys}`,
      '',
    ].join('\n'), { mode: 0o600 });
    const proxy = await readFile(layout.proxyConfig, 'utf8');
    // The owner of the image service's system account: only this user reaches it.
    await writeFile(layout.proxyConfig, proxy.replace(/^\[tempauth\]$/m, `[tempauth]\nuser_.image_glance = ${key} .admin`));
  }
  const config = (await readFile(path, 'utf8'))
    .replace(/^bind_port = \d+$/m, `bind_port = ${options.port}`)
    .replace(/^public_url = .*$/m, `public_url = http://127.0.0.1:${options.port}`)
    .replace(/^auth_url = .*$/m, `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`);
  await writeFile(path, config, { mode: 0o600 });
  await setIdentityServiceUrl(layout, 'image_url', options.port);
}
