import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { readBody } from '../../common/http/body-reader.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { ListingContentType } from '../../common/listing-format.ts';
import type { ProxyContext } from '../context.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import { type AccountPath, accountPath } from './bulk-request.ts';
import { type BulkResult, bulkAnswer, statusLine } from './bulk-response.ts';
import { toHttpError } from './catch-errors.ts';
import { keepAliveBody } from './keep-alive-body.ts';
import { discardBody, respond } from './subresponse.ts';
import { readTar, TarError, type TarEntry } from './tar-reader.ts';
import { percentDecode, pyQuote, utf8OrUndefined } from './url-quote.ts';

/** Extract-archive limits and pacing (Swift's `[filter:bulk]` options). */
export interface ExtractOptions {
  readonly maxContainersPerExtraction: number;
  readonly maxFailedExtractions: number;
  readonly yieldFrequencyMs: number;
}

/** The compressions `?extract-archive=` names: `tar`, `tar.gz`, `tar.bz2` (Swift's table). */
export function archiveCompression(value: string): '' | 'gz' | 'bz2' | undefined {
  const key = value.toLowerCase().replace(/^\.+|\.+$/g, '');
  return key === 'tar' ? '' : key === 'tar.gz' ? 'gz' : key === 'tar.bz2' ? 'bz2' : undefined;
}

/** The pax records tar writes for extended attributes, as Swift maps them to headers. */
function paxHeader(key: string): string | undefined {
  for (const vendor of ['SCHILY.xattr.user.', 'LIBARCHIVE.xattr.user.']) {
    if (!key.startsWith(vendor)) continue;
    const attribute = key.slice(vendor.length);
    if (attribute === 'mime_type') return 'content-type';
    if (attribute.startsWith('meta.')) return `x-object-meta-${attribute.slice('meta.'.length).toLowerCase()}`;
  }
  return undefined;
}

async function* gunzip(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const input = Readable.from(body);
  const output = input.pipe(createGunzip());
  input.on('error', (err) => output.destroy(err));
  try {
    yield* output;
  } finally {
    input.destroy();
    output.destroy();
  }
}

const SLASH = 0x2f;

/**
 * Swift's extract-archive (`PUT /v1/<account>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz`):
 * every regular file of the archive becomes an object under the path (names without a
 * container part are skipped when the path names none), each with a PUT subrequest carrying
 * the client's token, its `X-Delete-At/After` and `X-Object-Meta-*`, and the file's
 * `user.mime_type`/`user.meta.*` extended attributes. Containers are created on first use.
 * The archive streams from the client through gunzip and the tar reader into the PUTs.
 *
 * As with bulk delete, a request refused before any work gets its status; after that the
 * answer is a 200 with keep-alive output and the outcome (`Response Status`, `Response Body`,
 * `Number Files Created`, `Errors`) in the body. `tar.bz2` is refused: node has no bzip2.
 */
export async function extractArchive(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, format: ListingContentType | undefined, compression: '' | 'gz' | 'bz2', options: ExtractOptions): Promise<ServerResponse> {
  const refuse = (status: number, body = ''): ServerResponse =>
    bulkAnswer(status, format, { fields: [['Response Status', statusLine(status)], ['Response Body', body], ['Number Files Created', 0]], errors: [] }, 'extract');
  if (!format) return refuse(406);
  const path = accountPath(req.path);
  if (!path) return refuse(404);
  const chunked = (req.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked');
  if (req.headers['content-length'] === undefined && !chunked) return refuse(411);
  if (compression === 'bz2') return refuse(400, 'Invalid Tar File: bzip2 archives are not supported by this cluster; send tar or tar.gz');
  const rest = req.path.slice(`/${path.version}/${path.account}`.length);
  let base = percentDecode(Buffer.from(rest.replace(/^\//, ''), 'latin1'));
  while (base.length > 0 && base[base.length - 1] === SLASH) base = base.subarray(0, base.length - 1);
  return {
    status: 200,
    headers: { 'Content-Type': `${format}; charset=utf-8` },
    body: keepAliveBody(ctx.clock, format, 'extract', options.yieldFrequencyMs, req.signal, () => extract(ctx, next, req, path, base, compression === 'gz', options)),
  };
}

async function extract(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, path: AccountPath, base: Buffer, gzipped: boolean, options: ExtractOptions): Promise<BulkResult> {
  const maxPath = ctx.constraints.max_object_name_length + ctx.constraints.max_container_name_length + 2;
  const auth: Record<string, string> = {};
  for (const name of ['x-auth-token', 'x-storage-token']) if (req.headers[name] !== undefined) auth[name] = req.headers[name] as string;
  const carried: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && (name === 'x-delete-at' || name === 'x-delete-after' || (name.startsWith('x-object-meta-') && name.length > 14))) carried[name] = value;
  }
  const errors: [string, string][] = [];
  let filesCreated = 0;
  let failureStatus = 400;
  let responseStatus = 201;
  let responseBody = '';
  const accessed = new Set<string>();
  let containersCreated = 0;
  const quoted = (bytes: Buffer): string => pyQuote(bytes.subarray(0, maxPath));

  /** HEAD, then PUT when missing: 'created', 'exists', or the failing status. */
  const ensureContainer = async (containerPath: string): Promise<'created' | 'exists' | number> => {
    const head = await respond(next, subrequest(req, { method: 'HEAD', path: containerPath, headers: auth, source: 'BULK' }));
    await discardBody(head.body);
    if (head.status >= 200 && head.status < 300) return 'exists';
    if (head.status !== 404) return head.status;
    const put = await respond(next, subrequest(req, { method: 'PUT', path: containerPath, headers: auth, source: 'BULK' }));
    await discardBody(put.body);
    return put.status >= 200 && put.status < 300 ? 'created' : put.status;
  };

  const store = async (entry: TarEntry): Promise<void> => {
    let objPath = entry.name;
    if (objPath[0] === 0x2e && objPath[1] === SLASH) objPath = objPath.subarray(2);
    while (objPath[0] === SLASH) objPath = objPath.subarray(1);
    if (base.length > 0) objPath = Buffer.concat([base, Buffer.from('/'), objPath]);
    const slash = objPath.indexOf(SLASH);
    if (slash === -1) return; // a file at the top with no container to go in
    if (utf8OrUndefined(objPath) === undefined) {
      errors.push([quoted(objPath), statusLine(412)]);
      return;
    }
    if (entry.size > ctx.constraints.max_file_size) {
      errors.push([quoted(objPath), statusLine(413)]);
      return;
    }
    const container = objPath.subarray(0, slash).toString('utf8');
    const containerPath = `/${path.version}/${path.account}/${pyQuote(container)}`;
    let containerFailure: [string, string] | undefined;
    if (!accessed.has(container)) {
      const outcome = await ensureContainer(containerPath);
      if (outcome === 'created' && ++containersCreated > options.maxContainersPerExtraction) {
        throw new HttpError(400, `More than ${options.maxContainersPerExtraction} containers to create from tar.`);
      }
      if (typeof outcome === 'number') {
        // The object PUT may still work (an ACL may allow it); report only if it does not.
        containerFailure = [quoted(Buffer.from(decodeURIComponent(containerPath))), statusLine(outcome)];
        if (outcome === 401) throw new HttpError(401, '');
      }
    }
    const headers: Record<string, string> = { ...auth, ...carried, 'content-length': String(entry.size) };
    for (const [key, value] of Object.entries(entry.pax)) {
      const header = paxHeader(key);
      if (header) headers[header] = Buffer.from(value, 'utf8').toString('latin1');
    }
    const put = await respond(next, subrequest(req, { method: 'PUT', path: `/${path.version}/${path.account}/${pyQuote(objPath)}`, headers, body: entry.data, source: 'BULK' }));
    await discardBody(put.body);
    accessed.add(container);
    if (put.status >= 200 && put.status < 300) {
      filesCreated++;
      return;
    }
    if (containerFailure) errors.push(containerFailure);
    if (put.status === 401) {
      errors.push([quoted(objPath), statusLine(401)]);
      throw new HttpError(401, '');
    }
    if (put.status >= 500) failureStatus = 502;
    errors.push([quoted(objPath), statusLine(put.status)]);
  };

  try {
    const body = readBody(req.body, ctx.config.client_timeout * 1000);
    for await (const entry of readTar(gzipped ? gunzip(body) : body)) {
      if (errors.length >= options.maxFailedExtractions) break;
      if (entry.isFile) await store(entry);
    }
    if (errors.length > 0) responseStatus = failureStatus;
    else if (filesCreated === 0) {
      responseStatus = 400;
      responseBody = 'Invalid Tar File: No Valid Files';
    }
  } catch (err) {
    const zlibError = (err as { code?: unknown })?.code;
    if (err instanceof TarError || (typeof zlibError === 'string' && zlibError.startsWith('Z_'))) {
      responseStatus = 400;
      responseBody = `Invalid Tar File: ${(err as Error).message}`;
    } else {
      const mapped = toHttpError(err);
      if (mapped instanceof HttpError) {
        responseStatus = mapped.status;
        responseBody = mapped.body ?? '';
      } else {
        ctx.logger.error('extract archive failed', { err, txn: req.env.transId });
        responseStatus = 500;
      }
    }
  }
  return { fields: [['Response Status', statusLine(responseStatus)], ['Response Body', responseBody], ['Number Files Created', filesCreated]], errors };
}
