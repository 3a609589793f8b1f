import { bool, type ConfigOf, defaultConfig, int, type Schema } from '../../common/config.ts';

/**
 * The `[filter:slo]` settings, with Swift 2.30's defaults. `min_segment_size` is gone from
 * Swift (every segment but the last must hold at least one byte); `/info` still reports 1.
 */
export const sloSchema = {
  max_manifest_segments: int(1000, { min: 1, doc: 'object-backed segments a new manifest may list' }),
  max_manifest_size: int(8 * 1024 * 1024, { min: 1, doc: 'bytes of manifest JSON a client may PUT' }),
  yield_frequency: int(10, { min: 1, doc: 'seconds between whitespace heartbeats (heartbeat=on, multipart-manifest=delete)' }),
  concurrency: int(2, { min: 1, max: 1000, doc: 'segment HEADs (manifest PUT) or DELETEs in flight at once' }),
  max_get_time: int(86_400, { min: 1, doc: 'seconds a GET of a large object may take before it is cut' }),
  rate_limit_after_segment: int(10, { min: 0, doc: 'segments served at full speed before rate limiting starts' }),
  rate_limit_segments_per_sec: int(1, { min: 0, doc: 'segments per second after that (0: no limit)' }),
  rate_limit_under_size: int(1024 * 1024, { min: 0, doc: 'only segments smaller than this are rate limited' }),
  allow_async_delete: bool(false, 'accepted for compatibility; async=yes is served as a synchronous delete'),
} as const satisfies Schema;

/** The `[filter:dlo]` settings, with Swift 2.30's defaults. */
export const dloSchema = {
  max_get_time: int(86_400, { min: 1, doc: 'seconds a GET of a large object may take before it is cut' }),
  rate_limit_after_segment: int(10, { min: 0, doc: 'segments served at full speed before rate limiting starts' }),
  rate_limit_segments_per_sec: int(1, { min: 0, doc: 'segments per second after that (0: no limit)' }),
} as const satisfies Schema;

/** The SLO middleware's settings. */
export type SloConfig = ConfigOf<typeof sloSchema>;
/** The DLO middleware's settings. */
export type DloConfig = ConfigOf<typeof dloSchema>;

/** The defaults of both sections, for a proxy whose config file has neither. */
export function defaultLargeObjectConfig(): { slo: SloConfig; dlo: DloConfig } {
  return defaultConfig({ slo: sloSchema, dlo: dloSchema });
}
