import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../../common/config.ts';
import { DEFAULT_CONSTRAINTS } from '../../../../common/constraints.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { nullLogger } from '../../../../common/logger.ts';
import type { ProxyContext } from '../../../../proxy/context.ts';
import type { Capabilities } from '../../../../proxy/middleware/info.ts';
import { ratelimit, ratelimitSchema } from '../../../../proxy/middleware/ratelimit.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const defaults = defaultConfig({ r: ratelimitSchema }).r;

/** A proxy context whose account and container info say what the test wants. */
function context(clock: ManualClock, state: { objects: number; accountSysmeta?: Record<string, string> }): ProxyContext {
  return {
    clock,
    constraints: DEFAULT_CONSTRAINTS,
    info: {
      account: async () => ({ status: 204, containerCount: 1, objectCount: 0, bytes: 0, meta: {}, sysmeta: state.accountSysmeta ?? {} }),
      container: async () => ({ status: 204, objectCount: state.objects, bytes: 0, policyIndex: '0', meta: {}, sysmeta: {} }),
    },
  } as unknown as ProxyContext;
}

function request(method: string, path: string): ProxyRequest {
  return { method, path, query: new URLSearchParams(), headers: {}, body: (async function* () {})(), remoteAddress: '127.0.0.1', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

/** Starts requests at one instant and reports which have gone through after each step of the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

test('/info shows the limits as Swift registers them', () => {
  const capabilities: Capabilities = {};
  ratelimit(context(new ManualClock(), { objects: 0 }), capabilities, { ...defaults, account_ratelimit: 2, 'container_ratelimit_*': { container_ratelimit_100: 5, container_ratelimit_0: 10 } });
  assert.equal(capabilities['ratelimit'], { account_ratelimit: 2, max_sleep_time_seconds: 60, container_ratelimits: [[0, 10], [100, 5]], container_listing_ratelimits: [] });
});

test('object writes to a limited container wait their turn: 4 PUTs at 2/s go at 0, 0.5, 1 and 1.5 s', async () => {
  const clock = new ManualClock();
  const handler = ratelimit(context(clock, { objects: 1 }), {}, { ...defaults, 'container_ratelimit_*': { container_ratelimit_0: 2 } })(async () => ({ status: 201 }));
  const done: number[] = [];
  const all = [0, 1, 2, 3].map((i) => handler(request('PUT', `/v1/AUTH_a/c/o${i}`)).then(() => done.push(i)));
  await settle();
  assert.equal(done, [0]);
  for (const expected of [[0, 1], [0, 1, 2], [0, 1, 2, 3]]) {
    clock.advance(500);
    await settle();
    assert.equal(done, expected);
  }
  await Promise.all(all);
});

test('reads are not limited; nor is an empty container (Swift never limits size 0)', async () => {
  const clock = new ManualClock();
  let calls = 0;
  const handler = ratelimit(context(clock, { objects: 0 }), {}, { ...defaults, 'container_ratelimit_*': { container_ratelimit_0: 1 } })(async () => {
    calls += 1;
    return { status: 200 };
  });
  await Promise.all([1, 2, 3].map(() => handler(request('PUT', '/v1/AUTH_a/c/o'))));
  await Promise.all([1, 2, 3].map(() => handler(request('GET', '/v1/AUTH_a/c/o'))));
  assert.is(calls, 6);
});

test('past max_sleep_time_seconds: 429 with Retry-After by default, 498 when configured', async () => {
  for (const [status, retryAfter] of [['429', '4'], ['498', undefined]] as const) {
    const clock = new ManualClock();
    const config = { ...defaults, max_sleep_time_seconds: 1, 'container_ratelimit_*': { container_ratelimit_0: 0.25 }, rate_limited_status: status };
    const handler = ratelimit(context(clock, { objects: 3 }), {}, config)(async () => ({ status: 201 }));
    const first = await handler(request('PUT', '/v1/AUTH_a/c/o'));
    assert.is(first.status, 201);
    // The next turn is 4 s away, 3 s more than a request may wait: after 4 s it would go at once.
    const refused: ServerResponse = await handler(request('POST', '/v1/AUTH_a/c/o'));
    assert.is(refused.status, Number(status));
    assert.is(refused.body, 'Slow down');
    assert.is((refused.headers as Record<string, string>)['Retry-After'], retryAfter);
  }
});

test('account_ratelimit limits container PUTs and DELETEs; the global write limit every write', async () => {
  const clock = new ManualClock();
  const state = { objects: 0, accountSysmeta: {} as Record<string, string> };
  const handler = ratelimit(context(clock, state), {}, { ...defaults, account_ratelimit: 1, max_sleep_time_seconds: 0.5 })(async () => ({ status: 201 }));
  assert.is((await handler(request('PUT', '/v1/AUTH_a/c1'))).status, 201);
  assert.is((await handler(request('PUT', '/v1/AUTH_a/c2'))).status, 429);
  assert.is((await handler(request('POST', '/v1/AUTH_a/c2'))).status, 201);
  state.accountSysmeta = { 'global-write-ratelimit': '1' };
  assert.is((await handler(request('POST', '/v1/AUTH_a/c/o'))).status, 201);
  assert.is((await handler(request('DELETE', '/v1/AUTH_a/c/o'))).status, 429);
});

test('whitelisted accounts are never limited; blacklisted ones get 497 after a second', async () => {
  const clock = new ManualClock();
  const state = { objects: 5, accountSysmeta: {} as Record<string, string> };
  const config = { ...defaults, max_sleep_time_seconds: 0.5, 'container_ratelimit_*': { container_ratelimit_0: 1 }, account_whitelist: ['AUTH_ok'], account_blacklist: ['AUTH_bad'] };
  const handler = ratelimit(context(clock, state), {}, config)(async () => ({ status: 201 }));
  for (let i = 0; i < 5; i++) assert.is((await handler(request('PUT', '/v1/AUTH_ok/c/o'))).status, 201);
  let answered: ServerResponse | undefined;
  const pending = handler(request('GET', '/v1/AUTH_bad/c')).then((r) => (answered = r));
  await settle();
  assert.is(answered, undefined);
  clock.advance(1000);
  await pending;
  assert.is(answered?.status, 497);
  assert.is(answered?.body, 'Your account has been blacklisted');
  state.accountSysmeta = { 'global-write-ratelimit': 'WHITELIST' };
  for (let i = 0; i < 5; i++) assert.is((await handler(request('PUT', '/v1/AUTH_x/c/o'))).status, 201);
});

test('a container size in a limit key must be a number', () => {
  assert.throws(() => ratelimit(context(new ManualClock(), { objects: 0 }), {}, { ...defaults, 'container_ratelimit_*': { container_ratelimit_big: 1 } }), /ratelimit\.container_ratelimit_big/);
});

test.run();
