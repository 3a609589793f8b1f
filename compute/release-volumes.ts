import type { Logger } from '../common/logger.ts';
import { blockDevicesOf, forgetBlockDevices } from './block-device-record.ts';
import type { ComputeStore } from './store.ts';
import type { VolumeApi } from './volume-api.ts';

/**
 * A deleted server's volumes (Nova's `_shutdown_instance` and `_cleanup_volumes` on the host,
 * `_local_cleanup_bdm_volumes` for a local delete): each Cinder attachment deleted (the volume
 * `available` again), the volumes with `delete_on_termination` deleted, the mappings gone.
 * Failures are logged and the delete goes on, as Nova's does.
 */
export async function releaseVolumes(store: ComputeStore, volumes: VolumeApi, token: string, server: string, logger: Logger): Promise<void> {
  for (const m of await blockDevicesOf(store, server)) {
    try {
      if (m.attachment_id !== null) await volumes.attachmentDelete(token, m.attachment_id);
      // A boot volume the build never got to make has no id yet.
      if (m.delete_on_termination && m.volume_id !== '') await volumes.delete(token, m.volume_id);
    } catch (err) {
      logger.warn('volume cleanup at delete failed', { server, volume: m.volume_id, err });
    }
  }
  await forgetBlockDevices(store, server);
}
