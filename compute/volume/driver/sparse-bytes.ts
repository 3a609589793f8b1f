/**
 * A sparse byte array held in memory: only blocks that were written take space, the rest read
 * as zeros. The memory volume driver keeps each volume and snapshot in one.
 */
const BLOCK = 64 * 1024;

export class SparseBytes {
  private readonly blocks = new Map<number, Uint8Array>();
  sizeBytes: number;

  constructor(sizeBytes: number) {
    this.sizeBytes = sizeBytes;
  }

  read(position: number, length: number): Uint8Array {
    const end = Math.min(this.sizeBytes, position + length);
    const out = new Uint8Array(Math.max(0, end - position));
    for (let at = position; at < end; ) {
      const index = Math.floor(at / BLOCK);
      const within = at - index * BLOCK;
      const n = Math.min(BLOCK - within, end - at);
      const block = this.blocks.get(index);
      if (block) out.set(block.subarray(within, within + n), at - position);
      at += n;
    }
    return out;
  }

  write(position: number, data: Uint8Array): void {
    for (let done = 0; done < data.length; ) {
      const at = position + done;
      const index = Math.floor(at / BLOCK);
      const within = at - index * BLOCK;
      const n = Math.min(BLOCK - within, data.length - done);
      let block = this.blocks.get(index);
      if (!block) {
        block = new Uint8Array(BLOCK);
        this.blocks.set(index, block);
      }
      block.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  /** Grows (new bytes are zeros) or cuts the array. */
  resize(sizeBytes: number): void {
    if (sizeBytes < this.sizeBytes) {
      for (const index of this.blocks.keys()) if (index * BLOCK >= sizeBytes) this.blocks.delete(index);
      const last = this.blocks.get(Math.floor(sizeBytes / BLOCK));
      last?.fill(0, sizeBytes % BLOCK);
    }
    this.sizeBytes = sizeBytes;
  }

  copy(): SparseBytes {
    const c = new SparseBytes(this.sizeBytes);
    for (const [index, block] of this.blocks) c.blocks.set(index, block.slice());
    return c;
  }
}
