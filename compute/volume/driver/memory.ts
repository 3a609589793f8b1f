import { checkVolumeWrite } from './check-volume-write.ts';
import { InvalidVolume, SnapshotIsBusy, SnapshotNotFound, VolumeExists, VolumeNotFound } from '../errors.ts';
import { SparseBytes } from './sparse-bytes.ts';
import type { LeftoverSweep, SnapshotInfo, VolumeDriver, VolumeFile, VolumeFormat, VolumeInfo } from './types.ts';
import { checkSize } from './volume-size.ts';

interface MemoryVolume {
  format: VolumeFormat;
  data: SparseBytes;
  backingSnapshot?: string;
  /** Changed-block tracking of a qcow2 volume (its dirty bitmaps): mark -> granules written since. */
  marks: Map<string, Set<number>>;
}

/** The tracking's granularity, as a qcow2 bitmap's default (the image's 64 KiB clusters). */
const GRANULE = 64 * 1024;

interface MemorySnapshot {
  volumeId: string;
  format: VolumeFormat;
  data: SparseBytes;
}

/**
 * The volume driver twin: volumes and snapshots are sparse byte arrays in memory, with the file
 * driver's rules (a qcow2 volume made from a snapshot keeps it busy, as its backing file would).
 */
export class MemoryVolumeDriver implements VolumeDriver {
  readonly formats: readonly VolumeFormat[] = ['raw', 'qcow2'];
  private readonly volumes = new Map<string, MemoryVolume>();
  private readonly snapshots = new Map<string, MemorySnapshot>();
  private readonly defaultFormat: VolumeFormat;

  /** `defaultFormat`: of a volume created without one (the file driver's option). */
  constructor(options: { defaultFormat?: VolumeFormat } = {}) {
    this.defaultFormat = options.defaultFormat ?? 'raw';
  }

  async createVolume(id: string, sizeBytes: number, options: { format?: VolumeFormat } = {}): Promise<VolumeInfo> {
    checkSize(sizeBytes);
    const format = options.format ?? this.defaultFormat;
    if (!this.formats.includes(format)) throw new InvalidVolume(`format ${format} is not supported`);
    this.claim(id);
    this.volumes.set(id, { format, data: new SparseBytes(sizeBytes), marks: new Map() });
    return this.info(id);
  }

  async createVolumeFromSnapshot(id: string, snapshotId: string, sizeBytes: number): Promise<VolumeInfo> {
    const snap = this.snapshotOf(snapshotId);
    checkSize(sizeBytes);
    if (sizeBytes < snap.data.sizeBytes) throw new InvalidVolume(`size ${sizeBytes} is smaller than the snapshot's ${snap.data.sizeBytes}`);
    this.claim(id);
    const data = snap.data.copy();
    data.resize(sizeBytes);
    this.volumes.set(id, { format: snap.format, data, marks: new Map(), ...(snap.format === 'qcow2' ? { backingSnapshot: snapshotId } : {}) });
    return this.info(id);
  }

  async extendVolume(id: string, sizeBytes: number): Promise<VolumeInfo> {
    const vol = this.volumeOf(id);
    checkSize(sizeBytes);
    if (sizeBytes <= vol.data.sizeBytes) throw new InvalidVolume(`new size ${sizeBytes} must be greater than the current ${vol.data.sizeBytes}`);
    vol.data.resize(sizeBytes);
    return this.info(id);
  }

  async deleteVolume(id: string): Promise<void> {
    this.volumeOf(id);
    this.volumes.delete(id);
  }

  async getVolume(id: string): Promise<VolumeInfo | undefined> {
    return this.volumes.has(id) ? this.info(id) : undefined;
  }

  async createSnapshot(snapshotId: string, volumeId: string): Promise<SnapshotInfo> {
    const vol = this.volumeOf(volumeId);
    this.claim(snapshotId);
    this.snapshots.set(snapshotId, { volumeId, format: vol.format, data: vol.data.copy() });
    return this.snapshotInfo(snapshotId);
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    this.snapshotOf(snapshotId);
    for (const vol of this.volumes.values()) if (vol.backingSnapshot === snapshotId) throw new SnapshotIsBusy(snapshotId);
    this.snapshots.delete(snapshotId);
  }

  async getSnapshot(snapshotId: string): Promise<SnapshotInfo | undefined> {
    return this.snapshots.has(snapshotId) ? this.snapshotInfo(snapshotId) : undefined;
  }

  async listSnapshots(): Promise<string[]> {
    return [...this.snapshots.keys()].sort();
  }

  async openVolume(id: string, mode: 'r' | 'rw'): Promise<VolumeFile> {
    const vol = this.volumeOf(id);
    return memoryFile(vol.data, mode, vol.format === 'qcow2' ? vol.marks : undefined);
  }

  async openSnapshot(snapshotId: string): Promise<VolumeFile> {
    return memoryFile(this.snapshotOf(snapshotId).data, 'r');
  }

  async markChanges(volumeId: string, mark: string): Promise<boolean> {
    const vol = this.volumeOf(volumeId);
    if (vol.format !== 'qcow2') return false;
    vol.marks.set(mark, new Set());
    return true;
  }

  async dropChangeMarks(volumeId: string, which: { readonly mark: string } | { readonly allBut: string }): Promise<void> {
    const vol = this.volumeOf(volumeId);
    for (const mark of [...vol.marks.keys()]) if ('mark' in which ? mark === which.mark : mark !== which.allBut) vol.marks.delete(mark);
  }

  /** Nothing to sweep: a twin's operations, and everything else of it, end with its process. */
  async sweepLeftovers(): Promise<LeftoverSweep> {
    return { partialFiles: 0, stoppedExports: 0, exportFiles: 0 };
  }

  private claim(name: string): void {
    if (this.volumes.has(name) || this.snapshots.has(name)) throw new VolumeExists(name);
  }

  private volumeOf(id: string): MemoryVolume {
    const vol = this.volumes.get(id);
    if (!vol) throw new VolumeNotFound(id);
    return vol;
  }

  private snapshotOf(id: string): MemorySnapshot {
    const snap = this.snapshots.get(id);
    if (!snap) throw new SnapshotNotFound(id);
    return snap;
  }

  private info(id: string): VolumeInfo {
    const vol = this.volumeOf(id);
    return { id, format: vol.format, sizeBytes: vol.data.sizeBytes, ...(vol.backingSnapshot !== undefined ? { backingSnapshot: vol.backingSnapshot } : {}) };
  }

  private snapshotInfo(id: string): SnapshotInfo {
    const snap = this.snapshotOf(id);
    return { id, volumeId: snap.volumeId, format: snap.format, sizeBytes: snap.data.sizeBytes };
  }
}

function memoryFile(data: SparseBytes, mode: 'r' | 'rw', marks?: Map<string, Set<number>>): VolumeFile {
  let closed = false;
  const open = (): void => {
    if (closed) throw new InvalidVolume('the volume file is closed');
  };
  return {
    sizeBytes: data.sizeBytes,
    async read(position, length) {
      open();
      return data.read(position, length);
    },
    async write(position, bytes) {
      open();
      checkVolumeWrite(mode, position, bytes.length, data.sizeBytes);
      data.write(position, bytes);
      for (const dirty of marks?.values() ?? []) for (let g = Math.floor(position / GRANULE); g * GRANULE < position + bytes.length; g++) dirty.add(g);
    },
    ...(marks
      ? {
          async changedSince(mark: string) {
            open();
            const dirty = marks.get(mark);
            if (!dirty) return undefined;
            const ranges: Array<[number, number]> = [];
            for (const g of [...dirty].sort((a, b) => a - b)) {
              const start = g * GRANULE;
              const end = Math.min(data.sizeBytes, start + GRANULE);
              const last = ranges.at(-1);
              if (last && last[1] === start) last[1] = end;
              else ranges.push([start, end]);
            }
            return ranges;
          },
        }
      : {}),
    async sync() {
      open();
    },
    async close() {
      closed = true;
    },
  };
}
