import { createHash, hash } from 'node:crypto';
import { streamedPut } from '../../../client/streamed-put.ts';
import { type SwiftClient, unexpected } from '../../../client/swift-client.ts';
import { markLentChunks, markOwnChunks, releaseBuffer } from '../../../common/release-buffer.ts';
import type { BackupObjectStore, ObjectStream, PiecedBody } from './object-store.ts';
import { BackupObjectMissing, BackupStoreError } from './store-errors.ts';

/**
 * Backups in a Swift account through `client/` (Cinder's swift backup driver): the container
 * is made on first use, every object is sent with its MD5 as `ETag` so the object server
 * refuses a body that arrived changed (422), and the answer's ETag is compared again. A pieced
 * body goes up as it is made, sized (`Content-Length`), its MD5 computed as the pieces pass and
 * compared with the answer's ETag (an object that is not it is deleted again).
 */
export class SwiftBackupObjectStore implements BackupObjectStore {
  private readonly client: SwiftClient;

  constructor(client: SwiftClient) {
    this.client = client;
  }

  async ensureContainer(container: string): Promise<void> {
    const head = await this.client.request({ method: 'HEAD', container });
    await head.body.dump();
    if (head.status >= 200 && head.status < 300) return;
    if (head.status !== 404) throw new BackupStoreError(`HEAD ${container}: ${head.status}`);
    try {
      await this.client.putContainer(container);
    } catch (err) {
      throw new BackupStoreError(`PUT ${container}: ${(err as Error).message}`, { cause: err });
    }
  }

  async listNames(container: string, prefix: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const row of this.client.listAll(container, { prefix })) names.push(row.name);
    } catch (err) {
      throw new BackupStoreError(`GET ${container}?prefix=${prefix}: ${(err as Error).message}`, { cause: err });
    }
    return names;
  }

  async put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
    if (!(data instanceof Uint8Array)) return this.putPieces(container, name, data, md5);
    md5 ??= hash('md5', data, 'hex');
    const res = await this.client.request({ method: 'PUT', container, object: name, body: data, headers: { etag: md5, 'content-type': 'application/octet-stream' } });
    if (res.status !== 201) throw new BackupStoreError((await unexpected(res, 'PUT', `${container}/${name}`)).message);
    await res.body.dump();
    checkEtag(res.headers, `${container}/${name}`, md5);
  }

  /**
   * A pieced body is made again from its pieces (`pieces()` is a fresh pass), so a 401 (its
   * token expired or revoked during a long backup) is sent once more, as `request` does for a
   * body in memory, with the new token the client fetches after it. A client on someone else's
   * token (a user's own, preauth) has no new one: that 401 is an error saying so.
   */
  private async putPieces(container: string, name: string, body: PiecedBody, expectedMd5: string | undefined): Promise<void> {
    if (await this.putPiecesOnce(container, name, body, expectedMd5, false)) return;
    await this.putPiecesOnce(container, name, body, expectedMd5, true);
  }

  /** False when answered 401 and `last` is not set (nothing was stored: send it again). */
  private async putPiecesOnce(container: string, name: string, body: PiecedBody, expectedMd5: string | undefined, last: boolean): Promise<boolean> {
    const path = `${container}/${name}`;
    const md5 = createHash('md5');
    // Lent pieces: streamedPut writes each as it is and asks for the next once it is sent.
    const source = markLentChunks({
      async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
        const tooLong = (): BackupStoreError => new BackupStoreError(`PUT ${path}: pieces of more than the ${body.length} bytes sent as its length`);
        const pieces = body.pieces()[Symbol.iterator]();
        let sent = 0;
        for (let next = pieces.next(); !next.done; next = pieces.next()) {
          let piece = next.value;
          if (piece.length === 0) continue;
          sent += piece.length;
          if (sent > body.length) throw tooLong();
          if (sent === body.length) {
            // The last bytes go only once no more come: past them the object is stored, and a
            // piece more could not be taken back. A copy: asking for more may refill this one.
            piece = new Uint8Array(piece);
            for (let more = pieces.next(); !more.done; more = pieces.next()) if (more.value.length > 0) throw tooLong();
          }
          md5.update(piece);
          yield piece;
        }
        if (sent !== body.length) throw new BackupStoreError(`PUT ${path}: pieces of ${sent} bytes, not the ${body.length} sent as its length`);
      },
    });
    const headers: Record<string, string> = { 'content-length': String(body.length), 'content-type': 'application/octet-stream' };
    if (expectedMd5 !== undefined) headers['etag'] = expectedMd5;
    try {
      const res = await streamedPut(this.client, { method: 'PUT', container, object: name, headers }, source, { release: false, lent: true });
      if (res.status === 401) {
        await res.body.dump();
        if (!last && this.client.renewsTokens) return false;
        throw new BackupStoreError(`PUT ${path}: 401 Unauthorized: ${this.client.renewsTokens ? 'refused again with a new token' : "the token expired or was revoked, and it is the caller's own: no new one to send it with"}`);
      }
      if (res.status !== 201) throw new BackupStoreError((await unexpected(res, 'PUT', path)).message);
      await res.body.dump();
      checkEtag(res.headers, path, md5.digest('hex'));
      return true;
    } catch (err) {
      // Stored but not what was sent, or by a replica or two of a PUT that failed: it must not stay.
      await this.delete(container, name).catch(() => undefined);
      throw err;
    }
  }

  async get(container: string, name: string): Promise<Uint8Array> {
    return (await this.fetch(container, name)).body.bytes();
  }

  async getStream(container: string, name: string): Promise<ObjectStream> {
    const res = await this.fetch(container, name);
    const header = Number(res.headers['content-length']);
    const length = Number.isSafeInteger(header) && header >= 0 ? header : undefined;
    const path = `${container}/${name}`;
    const pieces = async function* (): AsyncGenerator<Uint8Array> {
      let got = 0;
      try {
        for await (const piece of res.body as AsyncIterable<Uint8Array>) {
          got += piece.length;
          yield piece;
        }
      } catch (err) {
        throw new BackupStoreError(`GET ${path}: ${(err as Error).message}`, { cause: err });
      }
      if (length !== undefined && got !== length) throw new BackupStoreError(`GET ${path}: ${got} bytes of ${length}`);
    };
    // The client keeps no reference to a chunk it hands over (BackendBodyStream).
    return { length, pieces: markOwnChunks(pieces()) };
  }

  async getInto(container: string, name: string, into: Uint8Array): Promise<Uint8Array> {
    const res = await this.fetch(container, name);
    const length = Number(res.headers['content-length']);
    if (!Number.isSafeInteger(length) || length > into.length) return res.body.bytes();
    let at = 0;
    for await (const piece of res.body as AsyncIterable<Uint8Array>) {
      if (at + piece.length > length) throw new BackupStoreError(`GET ${container}/${name}: more than the Content-Length, ${length}`);
      into.set(piece, at);
      at += piece.length;
      // Copied: its memory goes back now, not when a full GC finds it (socket reads are outside
      // V8's heap and set one off every ~40 MB: 8-12 per GiB restored, 1 with this).
      releaseBuffer(piece);
    }
    if (at !== length) throw new BackupStoreError(`GET ${container}/${name}: ${at} bytes of ${length}`);
    return into.subarray(0, length);
  }

  /** The object's 200 answer, its body unread. */
  private async fetch(container: string, name: string) {
    const res = await this.client.request({ method: 'GET', container, object: name });
    if (res.status === 404) {
      await res.body.dump();
      throw new BackupObjectMissing(container, name);
    }
    if (res.status !== 200) throw new BackupStoreError((await unexpected(res, 'GET', `${container}/${name}`)).message);
    return res;
  }

  async delete(container: string, name: string): Promise<void> {
    const res = await this.client.request({ method: 'DELETE', container, object: name });
    await res.body.dump();
    if (res.status !== 204 && res.status !== 404) throw new BackupStoreError(`DELETE ${container}/${name}: ${res.status}`);
  }
}

/** The PUT's answer names the object sent: its ETag (quotes or none) is `md5`. */
function checkEtag(headers: Readonly<Record<string, string>>, path: string, md5: string): void {
  const etag = (headers['etag'] ?? '').replace(/^"|"$/g, '');
  if (etag !== md5) throw new BackupStoreError(`PUT ${path}: the ETag ${etag} is not the MD5 sent, ${md5}`);
}
