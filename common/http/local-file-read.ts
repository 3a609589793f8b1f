/**
 * A proxy's local read (HDFS's short-circuit local reads): a proxy GETting an object from an
 * object server on its own machine says `X-Backend-Local-Read: yes`; when the answer would be
 * a body from a data file on disk, the object server sends the answer's status and headers
 * (it still decides existence, expiry, conditions and ranges) with no body, and names the file
 * instead. The proxy then reads the blocks itself, verifying each block's checksum as the
 * object server would, so the body crosses no second process and no loopback socket. Anything
 * that goes wrong on the proxy's side (file gone, another file at the path, a bad block) falls
 * back to an ordinary GET, which lets the object server find and quarantine what is bad.
 *
 * The headers are `X-Backend-`, so the gatekeeper keeps them from clients both ways.
 */
export const LOCAL_READ_HEADER = 'x-backend-local-read';
/** The data file's absolute path, percent-encoded. */
export const LOCAL_FILE_HEADER = 'x-backend-local-file';
/** The data file's `<st_dev>:<st_ino>`: the proxy reads only if the file it opened is this one. */
export const LOCAL_FILE_ID_HEADER = 'x-backend-local-file-id';
/** The body's length (the answer's own `Content-Length` is 0: it has none). */
export const LOCAL_LENGTH_HEADER = 'x-backend-local-content-length';
/**
 * Bodies at least this long are read locally (the objects written around the page cache);
 * below it the relay costs less than opening the file a second time.
 */
export const LOCAL_READ_MIN_BYTES = 1024 * 1024;

/** A body to read from a local data file, as an object server's answer names it. */
export interface LocalFileAnswer {
  readonly path: string;
  readonly id: string;
  readonly length: number;
}

/** The local file an object server's answer names, if it names one. */
export function localFileAnswer(headers: Readonly<Record<string, string>>): LocalFileAnswer | undefined {
  const path = headers[LOCAL_FILE_HEADER];
  const id = headers[LOCAL_FILE_ID_HEADER];
  const length = Number(headers[LOCAL_LENGTH_HEADER]);
  if (path === undefined || id === undefined || !Number.isSafeInteger(length) || length < 0) return undefined;
  try {
    return { path: decodeURIComponent(path), id, length };
  } catch {
    return undefined;
  }
}

/** A local data file opened for its body: blocks verified as they are read. */
export interface LocalBodyReader {
  /**
   * The body's bytes `[start, end)`. With `lend`, chunks may be the reader's own buffers, filled
   * again once the next is asked for (the caller must be done with each by then).
   */
  read(start: number, end: number, options: { lend: boolean }): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/**
 * What a proxy needs for local reads, given to it (the proxy reaches storage only over HTTP
 * otherwise): which nodes share its machine, and the opening of the files their object servers
 * name. The disk's implementation is `object/diskfile/local-data-files.ts`.
 */
export interface LocalDataFiles {
  /** Whether to ask this node's object server for local reads (it runs on this machine). */
  isLocal(node: { readonly ip: string }): boolean;
  /**
   * The named file, checked to be the one named and to hold the body of `etag`.
   * @throws when it cannot be opened or is not that file (the caller reads over HTTP).
   */
  open(file: LocalFileAnswer, etag: string): Promise<LocalBodyReader>;
}
