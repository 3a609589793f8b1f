import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { pathExists } from '../../common/path-exists.ts';
import type { ImageApi } from '../image-api.ts';

/**
 * The node's image cache (Nova's `_base`): each image is downloaded from Glance once, to a
 * temporary name that is renamed into place when whole, so a crash never leaves a short image
 * that looks complete. Boots of one image at once share one download.
 */
export class ImageCache {
  private readonly dir: string;
  private readonly images: ImageApi;
  private readonly pending = new Map<string, Promise<string>>();

  constructor(dir: string, images: ImageApi) {
    this.dir = dir;
    this.images = images;
  }

  /** The cached file of `imageId`, downloaded first when absent. */
  fetch(token: string, imageId: string): Promise<string> {
    let p = this.pending.get(imageId);
    if (!p) {
      p = this.download(token, imageId).finally(() => this.pending.delete(imageId));
      this.pending.set(imageId, p);
    }
    return p;
  }

  /** Drops `imageId`'s file (an image deleted once used, as a shelved server's snapshot is); disks made from it are copies. */
  async evict(imageId: string): Promise<void> {
    await this.pending.get(imageId)?.catch(() => undefined);
    await rm(join(this.dir, imageId), { force: true });
  }

  private async download(token: string, imageId: string): Promise<string> {
    const path = join(this.dir, imageId);
    if (await pathExists(path)) return path;
    await mkdir(this.dir, { recursive: true });
    const tmp = `${path}.part-${process.pid}`;
    try {
      const body = await this.images.download(token, imageId);
      const out = createWriteStream(tmp, { flush: true });
      await pipeline(Readable.from(body), out);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return path;
  }
}
