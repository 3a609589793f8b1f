import { readBody } from '../../common/http/body-reader.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { ListingContentType } from '../../common/listing-format.ts';
import type { ProxyContext } from '../context.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import { readDeleteList } from './bulk-delete-list.ts';
import { type AccountPath, accountPath } from './bulk-request.ts';
import { type BulkResult, bulkAnswer, statusLine } from './bulk-response.ts';
import { toHttpError } from './catch-errors.ts';
import { keepAliveBody } from './keep-alive-body.ts';
import { discardBody } from './subresponse.ts';
import { pyQuote, utf8OrUndefined } from './url-quote.ts';

/** Bulk-delete limits and pacing (Swift's `[filter:bulk]` options). */
export interface BulkDeleteOptions {
  readonly maxDeletesPerRequest: number;
  readonly maxFailedDeletes: number;
  /** Deletes in flight at once. */
  readonly deleteConcurrency: number;
  /** A keep-alive space is sent when nothing went out for this long. */
  readonly yieldFrequencyMs: number;
}

const SLASH = 0x2f;

function trimSlashes(name: Buffer, right: boolean): Buffer {
  let start = 0;
  let end = name.length;
  while (start < end && name[start] === SLASH) start++;
  while (right && end > start && name[end - 1] === SLASH) end--;
  return name.subarray(start, end);
}

/**
 * Swift's bulk delete (`POST` or `DELETE` with `?bulk-delete`): deletes the objects and
 * containers a text/plain body lists, objects first, then containers, a few at a time, each
 * with a DELETE subrequest carrying the client's token, so it is authorized like the client's
 * own DELETE.
 *
 * Once deleting starts the answer is a 200 whose body tells the outcome (`Response Status`,
 * `Response Body`, `Number Deleted`, `Number Not Found`, `Errors`), preceded by a space every
 * `yieldFrequencyMs` of silence so clients and load balancers do not time out. A request
 * refused before anything is deleted (no length, not text/plain, too many names, a name too
 * long, no acceptable Accept) gets that status itself, with the same body Swift would send.
 */
export async function bulkDelete(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, format: ListingContentType | undefined, options: BulkDeleteOptions): Promise<ServerResponse> {
  const refuse = (status: number, body = ''): ServerResponse =>
    bulkAnswer(status, format, { fields: [['Response Status', statusLine(status)], ['Response Body', body], ['Number Deleted', 0], ['Number Not Found', 0]], errors: [] }, 'delete');
  if (!format) return refuse(406);
  const path = accountPath(req.path);
  if (!path) return refuse(404);
  const incoming = req.headers['content-type'];
  if (incoming && !incoming.startsWith('text/plain')) return refuse(406);
  const chunked = (req.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked');
  if (req.headers['content-length'] === undefined && !chunked) return refuse(411);
  let names: Buffer[];
  try {
    names = await readDeleteList(readBody(req.body, ctx.config.client_timeout * 1000), {
      maxDeletes: options.maxDeletesPerRequest,
      maxPathLength: ctx.constraints.max_object_name_length + ctx.constraints.max_container_name_length + 2,
    });
  } catch (err) {
    if (err instanceof HttpError) return refuse(err.status, err.body ?? '');
    throw err;
  }
  return { status: 200, headers: { 'Content-Type': `${format}; charset=utf-8` }, body: keepAliveBody(ctx.clock, format, 'delete', options.yieldFrequencyMs, req.signal, () => deleteAll(ctx, next, req, path, names, options)) };
}

async function deleteAll(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, path: AccountPath, names: readonly Buffer[], options: BulkDeleteOptions): Promise<BulkResult> {
  let deleted = 0;
  let notFound = 0;
  const errors: [string, string][] = [];
  let failureStatus = 400;
  let responseStatus = 200;
  let responseBody = '';
  const token = req.headers['x-auth-token'];
  const storageToken = req.headers['x-storage-token'];

  const deleteOne = async (name: Buffer): Promise<void> => {
    const target = `/${path.version}/${path.account}/${pyQuote(trimSlashes(name, false), '/')}`;
    let status: number;
    try {
      const response = await next(subrequest(req, {
        method: 'DELETE',
        path: target,
        headers: { ...(token !== undefined ? { 'x-auth-token': token } : {}), ...(storageToken !== undefined ? { 'x-storage-token': storageToken } : {}) },
        source: 'BULK',
      }));
      status = response.status;
      await discardBody(response.body);
    } catch (err) {
      const mapped = toHttpError(err);
      if (mapped instanceof HttpError) status = mapped.status;
      else {
        ctx.logger.error('bulk delete: subrequest failed', { path: target, err, txn: req.env.transId });
        status = 500;
      }
    }
    if (status >= 200 && status < 300) deleted++;
    else if (status === 404) notFound++;
    else {
      if (status >= 500) failureStatus = 502;
      errors.push([pyQuote(name), statusLine(status)]);
    }
  };

  /**
   * Runs the names a phase takes, `deleteConcurrency` at a time. As in Swift, once the
   * failures reach `maxFailedDeletes` after an answer, nothing new starts (deletes in flight
   * finish); a name that is not UTF-8 fails without a request.
   */
  let aborted = false;
  const phase = async (wanted: (name: Buffer) => boolean): Promise<void> => {
    const queue = names.filter((name) => name.length > 0 && wanted(name));
    let index = 0;
    const worker = async (): Promise<void> => {
      while (index < queue.length && !aborted && !req.signal.aborted) {
        const name = queue[index++] as Buffer;
        if (utf8OrUndefined(name) === undefined) {
          errors.push([pyQuote(name), statusLine(412)]);
          continue;
        }
        await deleteOne(name);
        if (errors.length >= options.maxFailedDeletes) aborted = true;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.deleteConcurrency) }, worker));
  };

  const isObject = (name: Buffer): boolean => trimSlashes(name, true).includes(SLASH);
  await phase(isObject);
  if (!aborted) await phase((name) => !isObject(name));
  if (aborted) {
    responseStatus = 400;
    responseBody = 'Max delete failures exceeded';
  } else if (errors.length > 0) {
    responseStatus = failureStatus;
  } else if (deleted === 0 && notFound === 0) {
    responseStatus = 400;
    responseBody = 'Invalid bulk delete.';
  }
  return {
    fields: [['Response Status', statusLine(responseStatus)], ['Response Body', responseBody], ['Number Deleted', deleted], ['Number Not Found', notFound]],
    errors,
  };
}
