import { isAllZero } from '../all-zero.ts';
import type { VolumeFile } from '../driver/types.ts';
import type { VolumeApiDeps } from './deps.ts';

/** How much of the source is read at a time. */
const CHUNK = 4 * 1024 * 1024;

/**
 * The volume manager's clone (`create_cloned_volume`) for a target already made at least as
 * large as the source: the source's bytes copied across, all-zero blocks left as holes (the
 * new volume reads zero there already), then synced. The source is opened read-only, as a
 * backup opens it, so an `in-use` source may be cloned too (what it holds at that moment).
 */
export async function copyVolumeData(deps: VolumeApiDeps, sourceId: string, targetId: string): Promise<void> {
  const source = await deps.driver.openVolume(sourceId, 'r');
  try {
    const target = await deps.driver.openVolume(targetId, 'rw');
    try {
      await copyFileData(source, target, { targetIsNew: true });
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/**
 * `source`'s bytes onto `target` (at least as large), then synced. A new target reads zero
 * already, so its all-zero blocks are left as holes; an existing one (a revert) gets every block
 * that differs, zeros included, and only those, so a changed-block tracker sees just them.
 */
export async function copyFileData(source: VolumeFile, target: VolumeFile, options: { targetIsNew: boolean }): Promise<void> {
  for (let position = 0; position < source.sizeBytes; position += CHUNK) {
    const data = await source.read(position, Math.min(CHUNK, source.sizeBytes - position));
    if (options.targetIsNew ? !isAllZero(data) : !Buffer.from(data).equals(await target.read(position, data.length))) await target.write(position, data);
  }
  await target.sync();
}
