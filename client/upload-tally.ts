import { UploadMismatchError, UploadTooLargeError } from './errors.ts';

/** What a tally feeds each chunk to (a `node:crypto` Hash). */
export interface ChunkHash {
  update(chunk: Uint8Array): unknown;
}

/**
 * Counts an upload's bytes as they pass and feeds them to its hashes. A chunk that takes the
 * body over `maxBytes` (a quota, the size cap) or past `expectedSize` is refused before it goes
 * anywhere; `end` refuses a body that stopped short of `expectedSize`.
 */
export class UploadTally {
  total = 0;
  private readonly limits: { readonly maxBytes?: number | undefined; readonly expectedSize?: number | undefined };
  private readonly hashes: readonly ChunkHash[];

  constructor(limits: { readonly maxBytes?: number | undefined; readonly expectedSize?: number | undefined }, hashes: readonly ChunkHash[]) {
    this.limits = limits;
    this.hashes = hashes;
  }

  /** @throws {UploadTooLargeError} {UploadMismatchError} */
  count(chunk: Uint8Array): void {
    this.total += chunk.length;
    const { maxBytes, expectedSize } = this.limits;
    if (maxBytes !== undefined && this.total > maxBytes) throw new UploadTooLargeError(maxBytes);
    if (expectedSize !== undefined && this.total > expectedSize) throw new UploadMismatchError('size', `more than ${expectedSize} bytes`);
    for (const hash of this.hashes) hash.update(chunk);
  }

  /** @throws {UploadMismatchError} when fewer bytes than `expectedSize` came. */
  end(): void {
    const { expectedSize } = this.limits;
    if (expectedSize !== undefined && this.total < expectedSize) throw new UploadMismatchError('size', `${this.total} bytes, ${expectedSize} expected`);
  }

  /** `source`, counted; ends with `end`'s check. */
  async *pass(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.count(chunk);
      yield chunk;
    }
    this.end();
  }
}
