// The project's type libraries leave WebAssembly out; this is the one part used here.
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer } };

/**
 * Page-aligned buffers for `O_DIRECT` writes. Node cannot ask for aligned memory, but a
 * WebAssembly memory starts on a page boundary, so slabs carved from one at multiples of their
 * size are aligned too. The memory is made on first use and never grows (growing would detach
 * the slabs in use); when every slab is taken, `take()` answers undefined and the caller
 * writes through the page cache instead.
 */
export class AlignedSlabs {
  readonly slabBytes: number;
  private readonly count: number;
  private free: Buffer[] | undefined;

  constructor(options: { slabBytes: number; count: number }) {
    if (options.slabBytes % 65536 !== 0) throw new RangeError('slabs must be whole WebAssembly pages (64 KiB)');
    this.slabBytes = options.slabBytes;
    this.count = options.count;
  }

  /** A free slab, or undefined when all are in use. */
  take(): Buffer | undefined {
    if (!this.free) {
      const memory = new WebAssembly.Memory({ initial: (this.slabBytes * this.count) / 65536 });
      this.free = Array.from({ length: this.count }, (_, i) => Buffer.from(memory.buffer, i * this.slabBytes, this.slabBytes));
    }
    return this.free.pop();
  }

  /** How many slabs `take()` would give now. */
  get available(): number {
    return this.free ? this.free.length : this.count;
  }

  /** Returns a slab taken before. */
  give(slab: Buffer): void {
    this.free?.push(slab);
  }
}
