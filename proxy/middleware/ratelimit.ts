import { type ConfigOf, int, keysLike, list, num, oneOf, type Schema } from '../../common/config.ts';
import { ConfigError } from '../../common/errors.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { ProxyContext } from '../context.ts';
import type { Middleware, ProxyRequest } from '../request.ts';
import type { Capabilities } from './info.ts';
import { MaxSleepTimeHitError, maxRate, RateLimiter, type SizeRate } from './rate-limiter.ts';
import { swiftPathOf } from '../swift-path.ts';

/** The `[ratelimit]` section (Swift's `[filter:ratelimit]`), with Swift 2.30's defaults. */
export const ratelimitSchema = {
  account_ratelimit: num(0, { min: 0, doc: 'container PUTs and DELETEs per second per account; 0 = no limit' }),
  max_sleep_time_seconds: num(60, { min: 0, doc: 'a request that would wait longer is refused' }),
  log_sleep_time_seconds: num(0, { min: 0, doc: 'log waits longer than this; 0 = never' }),
  clock_accuracy: int(1000, { min: 1, doc: 'counter units per second' }),
  rate_buffer_seconds: int(5, { min: 0, doc: 'how far behind a key may fall and catch up in a burst' }),
  account_whitelist: list([], 'accounts never limited (comma-separated)'),
  account_blacklist: list([], 'accounts refused with 497 (comma-separated)'),
  'container_ratelimit_*': keysLike(num(0, { min: 0 }), 'container_ratelimit_<objects> = <writes per second> for containers of that size (interpolated)'),
  'container_listing_ratelimit_*': keysLike(num(0, { min: 0 }), 'container_listing_ratelimit_<objects> = <listings per second>'),
  rate_limited_status: oneOf('429', ['429', '498'] as const, 'status of a refused request: 429 Too Many Requests (with Retry-After; what clients retry) or 498 (Swift\'s)'),
} as const satisfies Schema;

type RatelimitConfig = ConfigOf<typeof ratelimitSchema>;

/** `container_ratelimit_<size>` lines as sizes and rates. @throws {ConfigError} for a size that is not an integer. */
function sizeRates(lines: Readonly<Record<string, number>>, prefix: string): SizeRate[] {
  return Object.entries(lines)
    .map(([key, rate]) => {
      const size = key.slice(prefix.length);
      if (!/^\d+$/.test(size)) throw new ConfigError(`ratelimit.${key}`, rate, 'expected <prefix><number of objects>');
      return { size: Number(size), rate };
    })
    .sort((a, b) => a.size - b.size);
}

const WRITES = ['PUT', 'DELETE', 'POST', 'COPY'];
/** How long a blacklisted account's request is held before its 497 (Swift's `BLACK_LIST_SLEEP`). */
const BLACKLIST_SLEEP_MS = 1000;

/**
 * Swift's `ratelimit` middleware, before auth: writes are slowed to configured rates by making
 * each request wait its turn, per account for container PUTs and DELETEs
 * (`account_ratelimit`), per container for object writes and for listings by container size
 * (`container_ratelimit_<size>`, `container_listing_ratelimit_<size>`), and per account for
 * all writes when the account's `X-Account-Sysmeta-Global-Write-Ratelimit` is a number. A
 * request that would wait `max_sleep_time_seconds` or more is refused: 429 with `Retry-After`
 * by default (what rclone and most clients back off on), or Swift's 498 with
 * `rate_limited_status = 498`. Accounts in `account_whitelist` (or with the sysmeta
 * `WHITELIST`) are never limited; those in `account_blacklist` (or `BLACKLIST`) get 497.
 *
 * The counters live in this proxy process (Swift keeps them in memcache, shared by all
 * proxies): with N proxy processes an account may get up to N times its rate. Object GETs and
 * HEADs are never limited and cost no lookup here (Swift checks the account's sysmeta on
 * them too, so a `BLACKLIST` account can still read objects here).
 */
export function ratelimit(ctx: ProxyContext, capabilities: Capabilities, config: RatelimitConfig): Middleware {
  const containerLimits = sizeRates(config['container_ratelimit_*'], 'container_ratelimit_');
  const listingLimits = sizeRates(config['container_listing_ratelimit_*'], 'container_listing_ratelimit_');
  capabilities['ratelimit'] = {
    account_ratelimit: config.account_ratelimit,
    max_sleep_time_seconds: config.max_sleep_time_seconds,
    container_ratelimits: containerLimits.map((l) => [l.size, l.rate]),
    container_listing_ratelimits: listingLimits.map((l) => [l.size, l.rate]),
  };
  const limiter = new RateLimiter({ clockAccuracy: config.clock_accuracy, maxSleepSeconds: config.max_sleep_time_seconds, rateBufferSeconds: config.rate_buffer_seconds });
  const whitelist = new Set(config.account_whitelist);
  const blacklist = new Set(config.account_blacklist);
  const status = Number(config.rate_limited_status);

  /** The counters a request moves, in order (Swift's `get_ratelimitable_key_tuples`). */
  const keysFor = async (req: ProxyRequest, account: string, container: string | undefined, object: string | undefined, globalRate: string | undefined): Promise<[string, number][]> => {
    const keys: [string, number][] = [];
    if (config.account_ratelimit && container !== undefined && object === undefined && (req.method === 'PUT' || req.method === 'DELETE')) {
      keys.push([`ratelimit/${account}`, config.account_ratelimit]);
    }
    const size = async (): Promise<number> => (await ctx.info.container(account, container as string, req.env.transId)).objectCount;
    if (container !== undefined && object !== undefined && WRITES.includes(req.method) && containerLimits.length > 0) {
      const rate = maxRate(containerLimits, await size());
      if (rate) keys.push([`ratelimit/${account}/${container}`, rate]);
    }
    if (container !== undefined && object === undefined && req.method === 'GET' && listingLimits.length > 0) {
      const rate = maxRate(listingLimits, await size());
      if (rate) keys.push([`ratelimit_listing/${account}/${container}`, rate]);
    }
    if (WRITES.includes(req.method) && globalRate) {
      const rate = Number(globalRate);
      if (globalRate.trim() !== '' && Number.isFinite(rate) && rate > 0) keys.push([`ratelimit/global-write/${account}`, rate]);
    }
    return keys;
  };

  return (next) => async (req) => {
    const path = swiftPathOf(req.path);
    if (!path || !ctx.constraints.valid_api_versions.includes(path.version)) return next(req);
    if (path.object !== undefined && (req.method === 'GET' || req.method === 'HEAD')) return next(req);
    const { account, container, object } = path;
    const sysmeta = (await ctx.info.account(account, req.env.transId)).sysmeta['global-write-ratelimit'];
    if (whitelist.has(account) || sysmeta === 'WHITELIST') return next(req);
    if (blacklist.has(account) || sysmeta === 'BLACKLIST') {
      req.env.logger.error('Returning 497 because of blacklisting', { account });
      await ctx.clock.sleep(BLACKLIST_SLEEP_MS, req.signal);
      return { status: 497, headers: { 'Content-Type': 'text/html; charset=UTF-8' }, body: 'Your account has been blacklisted' };
    }
    for (const [key, rate] of await keysFor(req, account, container, object, sysmeta)) {
      let wait: number;
      try {
        wait = limiter.sleepSeconds(key, rate, ctx.clock.now());
      } catch (err) {
        if (!(err instanceof MaxSleepTimeHitError)) throw err;
        req.env.logger.error('Returning rate limited status: Ratelimit (Max Sleep) exceeded', { status, method: req.method, path: [account, container, object].filter((p) => p !== undefined).join('/'), sleep: err.sleepSeconds });
        return rateLimited(status, err.sleepSeconds - config.max_sleep_time_seconds);
      }
      if (config.log_sleep_time_seconds && wait > config.log_sleep_time_seconds) {
        req.env.logger.warn('Ratelimit sleep log', { sleep: wait, account, container, object });
      }
      if (wait > 0) await ctx.clock.sleep(wait * 1000, req.signal);
    }
    return next(req);
  };
}

/**
 * The refusal: Swift's `Slow down`, as 498 or as a 429 whose `Retry-After` is the first whole
 * second at which the wait would be under `max_sleep_time_seconds` (the request then sleeps
 * the rest of its turn here instead of being refused again).
 */
function rateLimited(status: number, secondsOver: number): ServerResponse {
  const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=UTF-8' };
  if (status === 429) headers['Retry-After'] = String(Math.max(1, Math.floor(secondsOver) + 1));
  return { status, headers, body: 'Slow down' };
}
