import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aioIdentityFiles, setIdentityServiceUrl } from './aio-identity.ts';
import type { AioLayout } from './aio-setup.ts';

/** Whether `qemu-img` and `qemu-nbd` (Debian qemu-utils) run here. */
function hasQemuTools(): boolean {
  return ['qemu-img', 'qemu-nbd'].every((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** The default volume port of `swiftlet aio` (Cinder's). */
export const DEFAULT_VOLUME_PORT = 8776;

/** Where the all-in-one cluster keeps the volume service's config and volume files. */
export function aioVolumeFiles(layout: AioLayout): { config: string; volumes: string } {
  return { config: join(layout.etc, 'volume.conf'), volumes: join(layout.data, 'volumes') };
}

/**
 * The all-in-one cluster's volume service, made on the first start that has it (as identity's
 * is): its config with random keys, and in the proxy's tempauth the owner of its system account
 * `AUTH_.volume` and `.volume:backup`, a reseller admin for imported backups in another
 * project's account (backups are written with the user's own token). Every start puts the ports into the config and the service into identity's config,
 * so bootstrap lists it in the catalog (`volumev3`, `block-storage`).
 */
export async function setupAioVolume(layout: AioLayout, options: { port: number; proxyPort: number; identityPort: number; imagePort: number }): Promise<void> {
  const files = aioVolumeFiles(layout);
  const identity = aioIdentityFiles(layout);
  await mkdir(files.volumes, { recursive: true });
  if (!existsSync(files.config)) {
    const accountKey = randomBytes(18).toString('base64url');
    const backupKey = randomBytes(18).toString('base64url');
    await writeFile(files.config, [
      '[volume]',
      'bind_ip = 127.0.0.1',
      `bind_port = ${options.port}`,
      `public_url = http://127.0.0.1:${options.port}`,
      `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`,
      'account_user = .volume:volume',
      `account_key = ${accountKey}`,
      'backup_user = .volume:backup',
      `backup_key = ${backupKey}`,
      `key_repository = ${identity.keys}`,
      `identity_url = http://127.0.0.1:${options.identityPort}`,
      `volumes_dir = ${files.volumes}`,
      // qcow2 volumes (their dirty bitmaps let incrementals read only what changed) where QEMU's
      // tools are installed; raw ones need none.
      `nfs_qcow2_volumes = ${hasQemuTools()}`,
      `image_url = http://127.0.0.1:${options.imagePort}`,
      '',
    ].join('\n'), { mode: 0o600 });
    const proxy = await readFile(layout.proxyConfig, 'utf8');
    await writeFile(layout.proxyConfig, proxy.replace(/^\[tempauth\]$/m, `[tempauth]\nuser_.volume_volume = ${accountKey} .admin\nuser_.volume_backup = ${backupKey} .reseller_admin`));
  }
  const config = (await readFile(files.config, 'utf8'))
    .replace(/^bind_port = \d+$/m, `bind_port = ${options.port}`)
    .replace(/^public_url = .*$/m, `public_url = http://127.0.0.1:${options.port}`)
    .replace(/^auth_url = .*$/m, `auth_url = http://127.0.0.1:${options.proxyPort}/auth/v1.0`)
    .replace(/^identity_url = .*$/m, `identity_url = http://127.0.0.1:${options.identityPort}`);
  // A config made before volumes came from images has no image_url yet.
  const withImage = /^image_url = /m.test(config) ? config.replace(/^image_url = .*$/m, `image_url = http://127.0.0.1:${options.imagePort}`) : config.replace(/^volumes_dir = .*$/m, (line) => `${line}\nimage_url = http://127.0.0.1:${options.imagePort}`);
  await writeFile(files.config, withImage, { mode: 0o600 });
  await setIdentityServiceUrl(layout, 'volume_url', options.port);
}
