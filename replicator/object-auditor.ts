import { createHash } from 'node:crypto';
import { type ConfigOf, num, type Schema } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import { DiskFileNotExist, DiskFileQuarantined } from '../object/diskfile/errors.ts';
import type { DiskFileManager } from '../object/diskfile/types.ts';
import { deviceDirs } from './local-devices.ts';
import type { StorageNodeContext } from './node-context.ts';

export const objectAuditorSchema = {
  interval: num(300, { min: 0, doc: 'seconds between the starts of two full passes' }),
  files_per_second: num(20, { min: 0.01, doc: 'objects read per second in a full pass' }),
  bytes_per_second: num(10 * 1024 * 1024, { min: 1, doc: 'bytes read per second in a full pass' }),
  fast_interval: num(60, { min: 0, doc: 'seconds between the starts of two fast (metadata) passes' }),
  fast_files_per_second: num(50, { min: 0.01, doc: 'objects checked per second in a fast pass' }),
} as const satisfies Schema;

/**
 * The object auditor (Swift's, in its two modes). A fast pass opens every object's current
 * files, which checks their header checksum and size; a full pass also reads all the data,
 * which checks every block's checksum and the MD5 against the ETag. A file that fails is
 * quarantined; the replicators then restore a good copy from another replica. Both passes are
 * paced so they do not starve client requests.
 */
export class ObjectAuditor extends Daemon {
  readonly name: string;
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof objectAuditorSchema>;
  private readonly full: boolean;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof objectAuditorSchema>, mode: 'full' | 'fast') {
    const name = mode === 'full' ? 'object-auditor' : 'object-auditor-fast';
    super({ clock: ctx.clock, logger: ctx.logger.child({ daemon: name }) });
    this.name = name;
    this.ctx = ctx;
    this.config = config;
    this.full = mode === 'full';
  }

  protected intervalMs(): number {
    return (this.full ? this.config.interval : this.config.fast_interval) * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const misplacedBefore = this.ctx.placement?.report().misplaced ?? 0;
    try {
      await this.walk(signal);
    } finally {
      // One line a pass, not one an object: under a wrong secret every object is misplaced.
      const misplaced = (this.ctx.placement?.report().misplaced ?? 0) - misplacedBefore;
      if (misplaced > 0) {
        this.logger.error("objects do not hash to their place under the configured hash-path secret: this node's [swift-hash] (swiftlet.conf) is not the one they were written with", { misplaced, example: this.ctx.placement?.report().example });
      }
    }
  }

  private async walk(signal?: AbortSignal): Promise<void> {
    const filesPerSecond = this.full ? this.config.files_per_second : this.config.fast_files_per_second;
    const began = this.clock.monotonic();
    let files = 0;
    let bytes = 0;
    for (const device of await deviceDirs(this.ctx)) {
      // Every policy's objects (Swift's auditor walks each `objects*` directory).
      for (const [, diskFiles] of this.ctx.diskFiles) {
        let partitions: number[];
        try {
          partitions = await diskFiles.partitions(device);
        } catch {
          continue;
        }
        for (const partition of partitions) {
          for await (const entry of diskFiles.objects(device, partition)) {
            if (signal?.aborted) return;
            if (!entry.dataTimestamp) continue;
            bytes += await this.audit(diskFiles, device, partition, entry.hash);
            files += 1;
            // Pace: never ahead of the allowed files (and, in a full pass, bytes) per second.
            const due = Math.max(files / filesPerSecond, this.full ? bytes / this.config.bytes_per_second : 0) * 1000;
            const ahead = due - (this.clock.monotonic() - began);
            if (ahead > 0) await this.clock.sleep(ahead, signal).catch(() => undefined);
          }
        }
      }
    }
  }

  private notePlacement(device: string, partition: number, hash: string, name: string | undefined): void {
    if (this.ctx.placement && !this.ctx.placement.note(device, partition, hash, name)) this.count('misplaced');
  }

  /** Checks one object; returns the bytes read. */
  private async audit(diskFiles: DiskFileManager, device: string, partition: number, hash: string): Promise<number> {
    const df = await diskFiles.diskFileByHash(device, partition, hash);
    this.count('objects');
    try {
      if (!this.full) {
        this.notePlacement(device, partition, hash, (await df.readMetadata({ openExpired: true })).metadata['name']);
        return 0;
      }
      const reader = await df.open({ openExpired: true });
      this.notePlacement(device, partition, hash, reader.metadata['name']);
      const md5 = createHash('md5');
      let read = 0;
      try {
        for await (const chunk of reader.read()) {
          md5.update(chunk);
          read += chunk.length;
        }
      } finally {
        await reader.close();
      }
      this.count('bytes', read);
      const etag = md5.digest('hex');
      if (etag !== reader.metadata['ETag']) {
        await diskFiles.quarantineByHash(device, partition, hash, `ETag ${reader.metadata['ETag']} but data hashes to ${etag}`);
        this.count('quarantined');
      }
      return read;
    } catch (err) {
      if (err instanceof DiskFileQuarantined) {
        this.count('quarantined');
        this.logger.warn('object quarantined', { device, partition, hash, reason: err.reason });
      } else if (!(err instanceof DiskFileNotExist)) {
        this.count('errors');
        this.logger.warn('audit failed', { device, partition, hash, err });
      }
      return 0;
    }
  }
}
