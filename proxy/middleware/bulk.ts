import { type ConfigOf, defaultConfig, int, type Schema } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ProxyContext } from '../context.ts';
import type { Middleware } from '../request.ts';
import { bulkDelete } from './bulk-delete.ts';
import { bulkFormat } from './bulk-request.ts';
import { archiveCompression, extractArchive } from './extract-archive.ts';
import type { Capabilities } from './info.ts';

/** Bulk limits (Swift's `[filter:bulk]` defaults). */
export interface BulkOptions {
  readonly maxDeletesPerRequest: number;
  readonly maxFailedDeletes: number;
  readonly deleteConcurrency: number;
  readonly maxContainersPerExtraction: number;
  readonly maxFailedExtractions: number;
  /** Seconds of silence after which a keep-alive space is sent (Swift's `yield_frequency`). */
  readonly yieldFrequency: number;
}

/** The `[bulk]` section (Swift's `[filter:bulk]`), with Swift 2.30's defaults. */
export const bulkSchema = {
  max_deletes_per_request: int(10_000, { min: 1, doc: 'names one bulk delete may list' }),
  max_failed_deletes: int(1_000, { min: 1, doc: 'failures after which a bulk delete stops' }),
  delete_concurrency: int(2, { min: 1, max: 1000, doc: 'deletes in flight at once' }),
  max_containers_per_extraction: int(10_000, { min: 1, doc: 'containers one archive may create' }),
  max_failed_extractions: int(1_000, { min: 1, doc: 'failures after which an extraction stops' }),
  yield_frequency: int(10, { min: 1, doc: 'seconds between keep-alive spaces while working' }),
} as const satisfies Schema;

/** The options for a `[bulk]` section. */
export function bulkOptions(c: ConfigOf<typeof bulkSchema>): BulkOptions {
  return Object.freeze({
    maxDeletesPerRequest: c.max_deletes_per_request,
    maxFailedDeletes: c.max_failed_deletes,
    deleteConcurrency: c.delete_concurrency,
    maxContainersPerExtraction: c.max_containers_per_extraction,
    maxFailedExtractions: c.max_failed_extractions,
    yieldFrequency: c.yield_frequency,
  });
}

/** Swift's `[filter:bulk]` defaults. */
export const DEFAULT_BULK_OPTIONS: BulkOptions = bulkOptions(defaultConfig({ bulk: bulkSchema }).bulk);

/**
 * Swift's `bulk` middleware, before auth: bulk delete (`POST` or `DELETE` with
 * `?bulk-delete`, always on and advertised in `/info` as `bulk_delete`, since rclone and
 * swiftclient depend on it) and extract-archive (`PUT` with `?extract-archive=tar|tar.gz`,
 * advertised as `bulk_upload`). Their subrequests carry the client's token through auth, so
 * each delete or upload is authorized on its own.
 */
export function bulk(ctx: ProxyContext, capabilities: Capabilities, options: BulkOptions = DEFAULT_BULK_OPTIONS): Middleware {
  capabilities['bulk_upload'] = { max_containers_per_extraction: options.maxContainersPerExtraction, max_failed_extractions: options.maxFailedExtractions };
  capabilities['bulk_delete'] = { max_deletes_per_request: options.maxDeletesPerRequest, max_failed_deletes: options.maxFailedDeletes };
  return (next) => async (req) => {
    const archive = req.query.get('extract-archive');
    if (archive !== null && req.method === 'PUT') {
      const compression = archiveCompression(archive);
      if (compression === undefined) throw new HttpError(400, 'Unsupported archive format');
      return extractArchive(ctx, next, req, bulkFormat(req.headers['accept']), compression, {
        maxContainersPerExtraction: options.maxContainersPerExtraction,
        maxFailedExtractions: options.maxFailedExtractions,
        yieldFrequencyMs: options.yieldFrequency * 1000,
      });
    }
    if (req.query.has('bulk-delete') && (req.method === 'POST' || req.method === 'DELETE')) {
      return bulkDelete(ctx, next, req, bulkFormat(req.headers['accept']), {
        maxDeletesPerRequest: options.maxDeletesPerRequest,
        maxFailedDeletes: options.maxFailedDeletes,
        deleteConcurrency: options.deleteConcurrency,
        yieldFrequencyMs: options.yieldFrequency * 1000,
      });
    }
    return next(req);
  };
}
