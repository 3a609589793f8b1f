import type { Clock } from '../../common/clock.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import type { SloConfig } from './large-object-config.ts';
import { keepAliveBody, type ResultError, resultBody, resultFormat } from './result-body.ts';
import { swiftPath } from './segment-path.ts';
import { quotePath } from './url-quote.ts';
import { isSloResponse } from './slo-get.ts';
import { isDataSegment, parseStoredManifest, SloManifestError } from './slo-manifest.ts';
import { statusLine } from './slo-put.ts';
import { discardBody, isSuccess, readWhole, respond } from './subresponse.ts';

/** Swift's bulk `max_failed_deletes`: past this many failures the delete stops. */
const MAX_FAILED_DELETES = 1000;

/** An object to delete: a segment, or a manifest once its segments are queued (with why it could not be read). */
interface DeleteItem {
  readonly name: string;
  readonly subSlo: boolean;
  /** The manifest's version (object versioning's `?version-id=`), for the manifest itself only. */
  readonly versionId?: string;
  error?: { readonly code: number; readonly message: string };
}

/**
 * `DELETE ?multipart-manifest=delete` (Swift's `handle_multipart_delete`): every segment of the
 * manifest (nested manifests expanded, each deleted after its own segments), then the
 * manifest, answered like a bulk delete: always 200, the outcome in the body in the `Accept`
 * format (`Number Deleted`, `Number Not Found`, `Response Status`, `Response Body`, `Errors`),
 * whitespace every `yield_frequency` seconds while it runs. A missing manifest counts as not
 * found; an object that is not an SLO is an error (`Not an SLO manifest`). `async=yes` is served
 * synchronously (there is no expirer queue for segments).
 */
export function sloDelete(next: ProxyHandler, req: ProxyRequest, target: { version: string; account: string; container: string; object: string }, config: SloConfig, deps: { clock: Clock }): ServerResponse {
  const format = resultFormat(req.headers['accept']);
  const work = deleteAll(next, req, target, config).then(
    (result) => resultBody(format, result.fields, result.errors, 'delete'),
    (err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (!(err instanceof HttpError)) req.env.logger.error('SLO delete failed', { path: req.path, err });
      const fields = { 'Response Status': statusLine(status), 'Response Body': err instanceof HttpError ? (err.body ?? '') : '', 'Number Deleted': 0, 'Number Not Found': 0 };
      return resultBody(format, fields, [], 'delete');
    },
  );
  const sleep = (ms: number, signal: AbortSignal): Promise<void> => deps.clock.sleep(ms, signal);
  const firstBeat = format?.endsWith('/xml') ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ' ';
  return { status: 200, headers: { 'Content-Type': format ?? 'text/plain' }, body: keepAliveBody(work, { intervalMs: config.yield_frequency * 1000, sleep, firstBeat }) };
}

async function deleteAll(next: ProxyHandler, req: ProxyRequest, target: { version: string; account: string; container: string; object: string }, config: SloConfig): Promise<{ fields: Record<string, string | number>; errors: ResultError[] }> {
  if (resultFormat(req.headers['accept']) === undefined) throw new HttpError(406, '');
  let deleted = 0;
  let notFound = 0;
  const errors: ResultError[] = [];
  let failedStatus = 400;
  const fields = (): Record<string, string | number> => ({ 'Response Status': statusLine(errors.length > 0 ? failedStatus : 200), 'Response Body': '', 'Number Deleted': deleted, 'Number Not Found': notFound });

  const deleteOne = async (item: DeleteItem): Promise<void> => {
    if (item.error) {
      if (item.error.code === 404) notFound++;
      else errors.push([quotePath(item.name), item.error.message]);
      return;
    }
    const path = swiftPath(target.version, target.account, item.name.replace(/^\/+/, ''));
    const query = item.versionId !== undefined ? new URLSearchParams({ 'version-id': item.versionId }) : undefined;
    const response = await respond(next, subrequest(req, { method: 'DELETE', path, ...(query ? { query } : {}), headers: {}, source: 'SLO' }));
    await discardBody(response.body);
    if (isSuccess(response.status)) deleted++;
    else if (response.status === 404) notFound++;
    else {
      if (response.status >= 500) failedStatus = 502;
      errors.push([quotePath(item.name), statusLine(response.status)]);
    }
  };

  // Deletes run `concurrency` at a time while the queue of segments is still being expanded.
  const running = new Set<Promise<void>>();
  for await (const item of segmentsToDelete(next, req, target, config)) {
    const task: Promise<void> = deleteOne(item).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= config.concurrency) await Promise.race(running);
    if (errors.length >= MAX_FAILED_DELETES) {
      await Promise.all(running);
      return { fields: { ...fields(), 'Response Status': statusLine(400), 'Response Body': 'Max delete failures exceeded' }, errors };
    }
  }
  await Promise.all(running);
  return { fields: fields(), errors };
}

/** Swift's `get_segments_to_delete_iter`: segments in manifest order, each manifest after its segments. */
async function* segmentsToDelete(next: ProxyHandler, req: ProxyRequest, target: { version: string; account: string; container: string; object: string }, config: SloConfig): AsyncGenerator<DeleteItem> {
  const versionId = req.query.get('version-id');
  const queue: DeleteItem[] = [{ name: `/${target.container}/${target.object}`, subSlo: true, ...(versionId !== null ? { versionId } : {}) }];
  while (queue.length > 0) {
    // Bounded so that a maliciously deep or wide tree cannot exhaust memory.
    if (queue.length > config.max_manifest_segments * 10) throw new HttpError(400, 'Too many buffered slo segments to delete.');
    const item = queue.shift() as DeleteItem;
    if (!item.subSlo) {
      yield item;
      continue;
    }
    try {
      for (const seg of await manifestSegments(next, req, target, item.name, config)) {
        if (!isDataSegment(seg)) queue.push({ name: seg.name, subSlo: seg.sub_slo === true });
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      item.error = { code: err.status, message: err.body ?? '' };
    }
    queue.push({ name: item.name, subSlo: false, ...(item.versionId !== undefined ? { versionId: item.versionId } : {}), ...(item.error ? { error: item.error } : {}) });
  }
}

/** Swift's `get_slo_segments`: the stored segments of a manifest, or why there are none. */
async function manifestSegments(next: ProxyHandler, req: ProxyRequest, target: { version: string; account: string }, name: string, config: SloConfig): Promise<ReturnType<typeof parseStoredManifest>> {
  const path = swiftPath(target.version, target.account, name.replace(/^\/+/, ''));
  // Swift asks every manifest of the tree for the request's version.
  const version = req.query.get('version-id');
  const query = new URLSearchParams({ 'multipart-manifest': 'get', ...(version !== null ? { 'version-id': version } : {}) });
  const response = await respond(next, subrequest(req, { method: 'GET', path, query, headers: {}, source: 'SLO' }));
  if (isSuccess(response.status)) {
    if (!isSloResponse(response)) {
      await discardBody(response.body);
      throw new HttpError(400, 'Not an SLO manifest');
    }
    try {
      return parseStoredManifest((await readWhole(response.body, 4 * config.max_manifest_size + 1024 * 1024)).toString('utf8'));
    } catch (err) {
      if (err instanceof SloManifestError) throw new HttpError(500, 'Unable to load SLO manifest');
      throw err;
    }
  }
  await discardBody(response.body);
  if (response.status === 404) throw new HttpError(404, 'SLO manifest not found');
  if (response.status === 401) throw new HttpError(401, '401 Unauthorized');
  throw new HttpError(500, 'Unable to load SLO manifest or segment.');
}
