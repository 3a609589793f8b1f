import { type ConfigsOf, defaultConfig } from '../common/config.ts';
import { tempauthSchema } from './config.ts';
import type { ProxyContext } from './context.ts';
import { accountQuotas, accountQuotasSchema } from './middleware/account-quotas.ts';
import { bulk, bulkOptions, bulkSchema } from './middleware/bulk.ts';
import { catchErrors } from './middleware/catch-errors.ts';
import { containerQuotas, containerQuotasSchema } from './middleware/container-quotas.ts';
import { containerSync, containerSyncSchema } from './middleware/container-sync.ts';
import { copy } from './middleware/copy.ts';
import { crossdomain, crossdomainSchema } from './middleware/crossdomain.ts';
import { dlo } from './middleware/dlo.ts';
import { domainRemap, domainRemapSchema } from './middleware/domain-remap.ts';
import { etagQuoter, etagQuoterSchema } from './middleware/etag-quoter.ts';
import { formpost, formpostSchema } from './middleware/formpost.ts';
import { gatekeeper, gatekeeperSchema } from './middleware/gatekeeper.ts';
import { healthcheck } from './middleware/healthcheck.ts';
import { keystoneauth } from './middleware/keystoneauth.ts';
import { keystoneauthSchema } from './middleware/keystoneauth-settings.ts';
import { type Capabilities, info } from './middleware/info.ts';
import { dloSchema, sloSchema } from './middleware/large-object-config.ts';
import { listEndpoints, listEndpointsSchema } from './middleware/list-endpoints.ts';
import { listingFormats } from './middleware/listing-formats.ts';
import { metricsEndpoint } from './middleware/metrics-endpoint.ts';
import { proxyLogging } from './middleware/proxy-logging.ts';
import { ratelimit, ratelimitSchema } from './middleware/ratelimit.ts';
import type { ProxyMetrics } from './metrics.ts';
import { slo } from './middleware/slo.ts';
import { staticweb, staticwebSchema } from './middleware/staticweb.ts';
import { symlink, symlinkSchema } from './middleware/symlink.ts';
import { tempauth } from './middleware/tempauth.ts';
import { tempurl, tempUrlOptions, tempurlSchema } from './middleware/tempurl.ts';
import { versionedWrites, versionedWritesSchema } from './middleware/versioned-writes.ts';
import type { Middleware } from './request.ts';
import { proxyApp } from './app.ts';

/**
 * The config sections of the pipeline's middlewares (Swift's `[filter:<name>]` sections),
 * each with Swift 2.30's defaults.
 */
export const pipelineSchemas = {
  gatekeeper: gatekeeperSchema,
  container_sync: containerSyncSchema,
  keystoneauth: keystoneauthSchema,
  tempauth: tempauthSchema,
  bulk: bulkSchema,
  tempurl: tempurlSchema,
  slo: sloSchema,
  dlo: dloSchema,
  'list-endpoints': listEndpointsSchema,
  domain_remap: domainRemapSchema,
  'etag-quoter': etagQuoterSchema,
  ratelimit: ratelimitSchema,
  crossdomain: crossdomainSchema,
  formpost: formpostSchema,
  staticweb: staticwebSchema,
  'container-quotas': containerQuotasSchema,
  'account-quotas': accountQuotasSchema,
  versioned_writes: versionedWritesSchema,
  symlink: symlinkSchema,
} as const;

export type PipelineConfig = ConfigsOf<typeof pipelineSchemas>;

/** Every section at its default (a proxy whose config file names none of them). */
export function defaultPipelineConfig(): PipelineConfig {
  return defaultConfig(pipelineSchemas);
}

/**
 * The whole proxy pipeline, in order; the first sees a request first, the controllers come
 * after the last. Swift's order (its sample `proxy-server.conf`): errors and health first,
 * then `/metrics` (Prometheus, beside the health check and before logging, so neither is
 * counted as traffic), logging and `/info`; list_endpoints (unauthenticated, as in Swift), domain_remap and
 * etag_quoter where Swift's `cache` and `listing_formats` stand (domain_remap first, so the
 * quoter and everything after see the remapped path); bulk, tempurl, ratelimit and
 * crossdomain before auth (bulk's subrequests carry the client's token through it, a TempURL
 * admits requests without one, bulk's subrequests are each rate-limited); keystoneauth where
 * Swift has authtoken and keystoneauth, before tempauth, each taking only its own tokens; formpost and
 * staticweb just after auth; copy before the quotas, so a COPY is checked as the PUT it
 * becomes; slo and dlo last, so their subrequests are authorized as the client. Every
 * middleware is always on and registers itself and its limits in `capabilities` (`/info`),
 * keystoneauth aside, as in Swift.
 */
export function proxyPipeline(ctx: ProxyContext, capabilities: Capabilities, config: PipelineConfig, secret: string, metrics: ProxyMetrics, metricsText: () => Promise<string>): Middleware[] {
  registerLargeObjects(capabilities, config);
  return [
    catchErrors,
    gatekeeper(config.gatekeeper),
    healthcheck,
    metricsEndpoint(metricsText),
    proxyLogging(ctx.clock, ctx.config.log_requests, metrics),
    info(capabilities, { exposeInfo: ctx.config.expose_info, adminKey: ctx.config.admin_key, disallowedSections: ctx.config.disallowed_sections }, ctx.clock),
    listEndpoints(ctx, config['list-endpoints']),
    domainRemap(config.domain_remap, capabilities),
    etagQuoter(ctx, capabilities, config['etag-quoter']),
    listingFormats(ctx.constraints.valid_api_versions),
    containerSync(ctx, capabilities, config.container_sync),
    bulk(ctx, capabilities, bulkOptions(config.bulk)),
    tempurl(ctx, capabilities, tempUrlOptions(config.tempurl)),
    ratelimit(ctx, capabilities, config.ratelimit),
    crossdomain(config.crossdomain, capabilities),
    keystoneauth(config.keystoneauth, { clock: ctx.clock, logger: ctx.logger, app: proxyApp(ctx), accountInfo: (account, transId) => ctx.info.account(account, transId), ...(ctx.onClose ? { onClose: ctx.onClose } : {}) }),
    tempauth(config.tempauth, secret, { clock: ctx.clock, accountSysmeta: async (account, transId) => (await ctx.info.account(account, transId, { fresh: true })).sysmeta }, capabilities),
    formpost(ctx, capabilities, config.formpost),
    staticweb(ctx, capabilities, config.staticweb),
    copy(ctx),
    containerQuotas(ctx, capabilities),
    accountQuotas(ctx, capabilities),
    slo(config.slo, { clock: ctx.clock, clientTimeout: ctx.config.client_timeout }),
    dlo(config.dlo, { clock: ctx.clock, listingLimit: ctx.constraints.container_listing_limit }),
    versionedWrites(ctx, config.versioned_writes, capabilities),
    symlink(config.symlink, capabilities),
  ];
}

/** `/info`'s `slo` and `dlo` sections. */
function registerLargeObjects(capabilities: Capabilities, config: PipelineConfig): void {
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
}
