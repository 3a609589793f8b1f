import type { ProxyContext } from './context.ts';
import type { Capabilities } from './middleware/info.ts';
import { dlo } from './middleware/dlo.ts';
import { defaultLargeObjectConfig, type DloConfig, type SloConfig } from './middleware/large-object-config.ts';
import { slo } from './middleware/slo.ts';
import type { Middleware } from './request.ts';

/**
 * The large-object middlewares (after auth, in Swift's order: slo, then dlo), with their
 * limits registered in `/info`. `config` defaults to Swift's defaults for both.
 */
export function largeObjectMiddlewares(ctx: ProxyContext, capabilities: Capabilities, config: { slo: SloConfig; dlo: DloConfig } = defaultLargeObjectConfig()): Middleware[] {
  const s = config.slo;
  capabilities['slo'] = {
    max_manifest_segments: s.max_manifest_segments,
    max_manifest_size: s.max_manifest_size,
    yield_frequency: s.yield_frequency,
    // No longer configurable in Swift; reported as 1 for clients that still look.
    min_segment_size: 1,
    allow_async_delete: false,
  };
  const d = config.dlo;
  capabilities['dlo'] = { max_get_time: d.max_get_time, rate_limit_after_segment: d.rate_limit_after_segment, rate_limit_segments_per_sec: d.rate_limit_segments_per_sec };
  return [
    slo(s, { clock: ctx.clock, clientTimeout: ctx.config.client_timeout }),
    dlo(d, { clock: ctx.clock, listingLimit: ctx.constraints.container_listing_limit }),
  ];
}
