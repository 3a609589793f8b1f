import { createHmac } from 'node:crypto';
import { type ConfigOf, list, type Schema } from '../../common/config.ts';
import { SwiftError } from '../../common/errors.ts';
import { decodePath } from '../../common/http/backend-path.ts';
import { reasonPhrase } from '../../common/http/http-error.ts';
import type { ResponseHeaders, ServerResponse } from '../../common/http/server.ts';
import type { ProxyContext } from '../context.ts';
import { type Middleware, type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import { parseContentDisposition } from './content-disposition.ts';
import type { Capabilities } from './info.ts';
import { type MimeDocument, mimeDocuments, MimeHeadersTooLongError, MimeInvalidError } from './mime-documents.ts';
import { discardBody, isSuccess, respond } from './subresponse.ts';
import { ALLOWED_DIGESTS, DEPRECATED_DIGESTS, parseSignature, sameSignature, type TempUrlDigest } from './tempurl-signature.ts';
import { tempUrlKeysOf } from './tempurl.ts';
import { pyQuote } from './url-quote.ts';

/** The `[formpost]` section (Swift's `[filter:formpost]`), with Swift 2.30's default. */
export const formpostSchema = {
  allowed_digests: list(ALLOWED_DIGESTS, 'signature digests accepted (sha1 sha256 sha512)'),
} as const satisfies Schema;

/** The most of a form field's value that is kept (Swift's `MAX_VALUE_LENGTH`). */
const MAX_VALUE_LENGTH = 4096;

/** The form is wrong (400 `FormPost: <message>`). */
class FormInvalidError extends SwiftError {
  constructor(message: string) {
    super('FORMPOST_INVALID', message);
  }
}

/** The form's signature or expiry does not hold (401 `FormPost: <Message>`). */
class FormUnauthorizedError extends SwiftError {
  constructor(message: string) {
    super('FORMPOST_UNAUTHORIZED', message);
  }
}

/** Python's `str.title()` for ASCII text: `invalid signature` -> `Invalid Signature`. */
function pyTitle(text: string): string {
  return text.replace(/[A-Za-z]+/g, (w) => (w[0] as string).toUpperCase() + w.slice(1).toLowerCase());
}

/** Python's `int()` of a form value; undefined when it is not one. */
function pyInt(value: string): number | undefined {
  const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number((m[2] as string).replace(/_/g, ''));
  return m[1] === '-' ? -n : n;
}

/** `int(value or 0)`, or a FormInvalidError with `message`. */
function intOrZero(value: string | undefined, message: string): number {
  if (!value) return 0;
  const n = pyInt(value);
  if (n === undefined) throw new FormInvalidError(message);
  return n;
}

/** What a form signs: `path\nredirect\nmax_file_size\nmax_file_count\nexpires`, as HMAC hex. */
export function formPostHmac(fields: { path: string; redirect: string; maxFileSize: string; maxFileCount: string; expires: string }, key: Uint8Array, digest: TempUrlDigest): string {
  const body = `${fields.path}\n${fields.redirect}\n${fields.maxFileSize}\n${fields.maxFileCount}\n${fields.expires}`;
  return createHmac(digest, key).update(Buffer.from(body, 'utf8')).digest('hex');
}

/**
 * Swift's `formpost` middleware: an HTML form (`POST`, `multipart/form-data`) uploads files
 * straight into a container without a token. The form carries `redirect`, `max_file_size`,
 * `max_file_count`, `expires` and `signature` (the HMAC, sha1/sha256/sha512 in hex or
 * `<digest>:<base64>`, of `<path>\n<redirect>\n<max_file_size>\n<max_file_count>\n<expires>`
 * under one of the account's or the container's Temp-URL keys), optionally `x_delete_at` or
 * `x_delete_after`, `content-type` and `content-encoding`, and then its file fields: each file
 * becomes a PUT of `<path>[/]<filename>` (the slash when the path names just the container),
 * streamed, capped at `max_file_size`. Fields after a file do not apply to it (the body is never
 * held in memory). The answer is the last PUT's status as text, or a 303 to `redirect` with
 * `status` and `message` added to its query.
 */
export function formpost(ctx: ProxyContext, capabilities: Capabilities, config: ConfigOf<typeof formpostSchema>): Middleware {
  const configured = config.allowed_digests.map((d) => d.toLowerCase());
  const allowed = (configured.length > 0 ? configured : ALLOWED_DIGESTS).filter((d): d is TempUrlDigest => (ALLOWED_DIGESTS as readonly string[]).includes(d));
  const sorted = [...new Set(allowed)].sort();
  const deprecated = sorted.filter((d) => (DEPRECATED_DIGESTS as readonly string[]).includes(d));
  capabilities['formpost'] = { allowed_digests: sorted, ...(deprecated.length > 0 ? { deprecated_digests: deprecated } : {}) };

  return (next) => async (req) => {
    if (req.method !== 'POST') return next(req);
    const [type, params] = parseContentDisposition(req.headers['content-type'] ?? '');
    if (type !== 'multipart/form-data' || params['boundary'] === undefined) return next(req);
    req.headers['user-agent'] = `${req.headers['user-agent'] ?? ''} FormPost`.trim();
    try {
      return await translateForm(ctx, next, req, params['boundary'], sorted);
    } catch (err) {
      const text = (body: string): ServerResponse => ({ status: 400, headers: { 'Content-Type': 'text/plain' }, body });
      if (err instanceof MimeInvalidError) return text('FormPost: invalid starting boundary');
      if (err instanceof MimeHeadersTooLongError) return text('FormPost: MIME headers too long');
      if (err instanceof FormInvalidError) return text(`FormPost: ${err.message}`);
      if (err instanceof FormUnauthorizedError) {
        return { status: 401, headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Www-Authenticate': 'Swift realm="unknown"' }, body: `FormPost: ${pyTitle(err.message)}` };
      }
      throw err;
    }
  };
}

async function translateForm(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, boundary: string, allowed: readonly TempUrlDigest[]): Promise<ServerResponse> {
  const keys = await keysFor(ctx, req);
  let status: number | undefined;
  let message = '';
  let subheaders: ResponseHeaders = {};
  const attributes: Record<string, string> = {};
  let fileCount = 0;
  for await (const document of mimeDocuments(req.body, boundary)) {
    const [disposition, attrs] = parseContentDisposition(document.headers['content-disposition'] ?? '');
    if (disposition === 'form-data' && attrs['filename']) {
      fileCount += 1;
      if (fileCount > intOrZero(attributes['max_file_count'], 'max_file_count not an integer')) {
        status = 400;
        message = 'max file count exceeded';
        break;
      }
      const fileAttributes: Record<string, string> = { ...attributes, filename: attrs['filename'] };
      if (attributes['content-type'] === undefined && document.headers['content-type'] !== undefined) fileAttributes['content-type'] = document.headers['content-type'] || 'application/octet-stream';
      if (attributes['content-encoding'] === undefined && document.headers['content-encoding'] !== undefined) fileAttributes['content-encoding'] = document.headers['content-encoding'];
      const result = await uploadFile(ctx, next, req, fileAttributes, document, keys, allowed);
      status = result.status;
      subheaders = result.headers ?? {};
      if (!isSuccess(status)) break;
    } else {
      const value = await readValue(document);
      if (attrs['name'] !== undefined) attributes[attrs['name'].toLowerCase()] = value.replace(/[\r\n-]+$/, '');
    }
  }
  if (status === undefined) {
    status = 400;
    message = 'no files to process';
  }
  const headers: ResponseHeaders = {};
  for (const [k, v] of Object.entries(subheaders)) if (k.toLowerCase().startsWith('access-control')) headers[k] = v;
  const redirect = attributes['redirect'];
  const statusLine = `${status} ${reasonPhrase(status)}`;
  if (!redirect) {
    const body = message ? `${statusLine}\r\nFormPost: ${pyTitle(message)}` : statusLine;
    return { status, headers: { ...headers, 'Content-Type': 'text/plain' }, body };
  }
  const location = `${redirect}${redirect.includes('?') ? '&' : '?'}status=${pyQuote(String(status))}&message=${pyQuote(message)}`;
  return { status: 303, headers: { ...headers, Location: location }, body: `<html><body><p><a href="${location}">Click to continue...</a></p></body></html>` };
}

/** A field's value: its first 4 KiB as text; the rest is read and dropped. */
async function readValue(document: MimeDocument): Promise<string> {
  const parts: Buffer[] = [];
  let kept = 0;
  for await (const chunk of document.body) {
    if (kept >= MAX_VALUE_LENGTH) continue;
    const piece = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, MAX_VALUE_LENGTH - kept));
    parts.push(piece);
    kept += piece.length;
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(parts));
}

/**
 * The Temp-URL keys of the account and the container of `/v1/<account>/<container>...`; none
 * for any other path (the form then fails its signature).
 */
async function keysFor(ctx: ProxyContext, req: ProxyRequest): Promise<Buffer[]> {
  let path: string;
  try {
    path = decodePath(req.path);
  } catch {
    return [];
  }
  const parts = path.split('/');
  const [empty, version, account, container] = parts;
  if (parts.length < 4 || empty !== '' || !ctx.constraints.valid_api_versions.includes(version as string) || !account || !container) return [];
  const accountInfo = await ctx.info.account(account, req.env.transId);
  const containerInfo = await ctx.info.container(account, container, req.env.transId);
  return [...tempUrlKeysOf(accountInfo.meta), ...tempUrlKeysOf(containerInfo.meta)];
}

/** Checks the form's signature and expiry, then PUTs one file, capped at `max_file_size`. */
async function uploadFile(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, attributes: Record<string, string>, document: MimeDocument, keys: readonly Buffer[], allowed: readonly TempUrlDigest[]): Promise<ServerResponse> {
  if (keys.length === 0) throw new FormUnauthorizedError('invalid signature');
  const maxFileSize = intOrZero(attributes['max_file_size'], 'max_file_size not an integer');
  const decoded = decodePath(req.path);
  let target = req.path;
  if (!decoded.endsWith('/') && decoded.split('/').length - 1 < 4) target += '/';
  target += pyQuote(attributes['filename'] || 'filename');
  const headers: Record<string, string> = { 'transfer-encoding': 'chunked', 'user-agent': req.headers['user-agent'] ?? '' };
  if (req.headers['origin'] !== undefined) headers['origin'] = req.headers['origin'];
  if (attributes['x_delete_at'] !== undefined) {
    const at = pyInt(attributes['x_delete_at']);
    if (at === undefined) throw new FormInvalidError('x_delete_at not an integer: Unix timestamp required.');
    headers['x-delete-at'] = String(at);
  }
  if (attributes['x_delete_after'] !== undefined) {
    const after = pyInt(attributes['x_delete_after']);
    if (after === undefined) throw new FormInvalidError('x_delete_after not an integer: Number of seconds required.');
    headers['x-delete-after'] = String(after);
  }
  if (attributes['content-type'] !== undefined) headers['content-type'] = attributes['content-type'] || 'application/octet-stream';
  if (attributes['content-encoding'] !== undefined) headers['content-encoding'] = attributes['content-encoding'];
  if (intOrZero(attributes['expires'], 'expired not an integer') < ctx.clock.now() / 1000) throw new FormUnauthorizedError('form expired');

  const signature = parseSignature(attributes['signature'] ?? '');
  if (!signature || !allowed.includes(signature.digest)) throw new FormUnauthorizedError('invalid signature');
  const fields = {
    path: decoded,
    redirect: attributes['redirect'] || '',
    maxFileSize: attributes['max_file_size'] || '0',
    maxFileCount: attributes['max_file_count'] || '0',
    expires: attributes['expires'] || '0',
  };
  if (!keys.some((key) => sameSignature(formPostHmac(fields, key, signature.digest), signature.hex))) throw new FormUnauthorizedError('invalid signature');

  const capped = capBody(document.body, maxFileSize);
  const put = subrequest(req, { method: 'PUT', path: target, headers, body: capped.body, source: 'FP' });
  // The signature is the credential (Swift's pre-authorized subrequest).
  put.env.authorized = true;
  let response: ServerResponse;
  try {
    response = await respond(next, put);
  } catch (err) {
    if (capped.exceeded()) throw new FormInvalidError('max_file_size exceeded');
    throw err;
  }
  if (capped.exceeded()) {
    await discardBody(response.body);
    throw new FormInvalidError('max_file_size exceeded');
  }
  await discardBody(response.body);
  return { ...response, body: null };
}

/** A file's bytes that fail (and say so) once more than `max` have passed. */
function capBody(body: AsyncIterable<Uint8Array>, max: number): { body: AsyncIterable<Uint8Array>; exceeded(): boolean } {
  let seen = 0;
  let exceeded = false;
  return {
    exceeded: () => exceeded,
    body: {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of body) {
          seen += chunk.length;
          if (seen > max) {
            exceeded = true;
            throw new FormInvalidError('max_file_size exceeded');
          }
          yield chunk;
        }
      },
    },
  };
}
