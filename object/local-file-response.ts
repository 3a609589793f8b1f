import { isTrueValue } from '../common/config.ts';
import { LOCAL_FILE_HEADER, LOCAL_FILE_ID_HEADER, LOCAL_LENGTH_HEADER, LOCAL_READ_HEADER, LOCAL_READ_MIN_BYTES } from '../common/http/local-file-read.ts';
import type { ServerRequest, ServerResponse } from '../common/http/server.ts';
import { isThisHost } from '../common/this-host.ts';
import type { ObjectReader } from './diskfile/types.ts';

/**
 * A GET's answer for a proxy on this machine that asked to read the body itself
 * (`common/http/local-file-read.ts`): `res`'s status and headers with no body, naming the
 * reader's data file, and the reader closed. Undefined, and `res` goes out as it is, unless the
 * request asked, came from this machine, and `res` is a 200 or single-range 206 of at least
 * `LOCAL_READ_MIN_BYTES` read from a file on disk.
 */
export function localFileResponse(req: Pick<ServerRequest, 'headers' | 'remoteAddress'>, res: ServerResponse, reader: ObjectReader): ServerResponse | undefined {
  // The ask first: every other GET of a file on disk passes here, and naming the file resolves its path.
  if (!isTrueValue(req.headers[LOCAL_READ_HEADER]) || !isThisHost(req.remoteAddress)) return undefined;
  const file = reader.localFile;
  if (!file) return undefined;
  if (res.status !== 200 && res.status !== 206) return undefined;
  const headers = res.headers ?? {};
  const length = Number(headers['Content-Length']);
  // A multi-range 206 is MIME framing around the ranges, not one span of the file.
  if (!(length >= LOCAL_READ_MIN_BYTES) || String(headers['Content-Type']).startsWith('multipart/byteranges')) return undefined;
  void reader.close();
  return {
    status: res.status,
    headers: { ...headers, 'Content-Length': 0, [LOCAL_FILE_HEADER]: encodeURIComponent(file.path), [LOCAL_FILE_ID_HEADER]: file.id, [LOCAL_LENGTH_HEADER]: length },
  };
}
