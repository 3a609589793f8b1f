import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CONSTRAINTS } from '../../../../common/constraints.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { createLogger } from '../../../../common/logger.ts';
import type { ProxyContext } from '../../../../proxy/context.ts';
import { bulk, DEFAULT_BULK_OPTIONS } from '../../../../proxy/middleware/bulk.ts';
import { bulkFormat } from '../../../../proxy/middleware/bulk-request.ts';
import type { Capabilities } from '../../../../proxy/middleware/info.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const logger = createLogger({ level: 'error' });

function context(clock = new ManualClock()): ProxyContext {
  return { clock, logger, constraints: DEFAULT_CONSTRAINTS, config: { client_timeout: 60 } } as unknown as ProxyContext;
}

function request(body: string, headers: Record<string, string> = {}, query = 'bulk-delete'): ProxyRequest {
  return {
    method: 'POST',
    path: '/v1/AUTH_test',
    query: new URLSearchParams(query),
    headers: { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), 'x-auth-token': 'tok', ...headers },
    body: (async function* () {
      yield Buffer.from(body);
    })(),
    remoteAddress: '127.0.0.1',
    signal: new AbortController().signal,
    env: { transId: 'tx', logger },
  };
}

async function text(response: ServerResponse): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString();
}

test('registers bulk_delete in /info', () => {
  const capabilities: Capabilities = {};
  bulk(context(), capabilities);
  assert.equal(capabilities['bulk_delete'], { max_deletes_per_request: 10000, max_failed_deletes: 1000 });
  assert.equal(capabilities['bulk_upload'], { max_containers_per_extraction: 10000, max_failed_extractions: 1000 });
});

test('Accept negotiation', () => {
  assert.is(bulkFormat(undefined), 'text/plain');
  assert.is(bulkFormat('application/json'), 'application/json');
  assert.is(bulkFormat('text/xml'), 'text/xml');
  assert.is(bulkFormat('*/*'), 'text/plain');
  assert.is(bulkFormat('image/png'), undefined);
  assert.is(bulkFormat('bad;;header'), undefined);
});

test('objects before containers, two at a time, token passed on, statuses counted', async () => {
  const seen: string[] = [];
  let inFlight = 0;
  let most = 0;
  const statuses: Record<string, number> = { '/v1/AUTH_test/c/a': 204, '/v1/AUTH_test/c/b': 404, '/v1/AUTH_test/c/c': 409, '/v1/AUTH_test/c/d': 503, '/v1/AUTH_test/c': 204, '/v1/AUTH_test/c/%C3%BC%20x': 204 };
  const handler = bulk(context(), {})(async (sub) => {
    assert.is(sub.method, 'DELETE');
    assert.is(sub.headers['x-auth-token'], 'tok');
    assert.is(sub.env.source, 'BULK');
    seen.push(sub.path);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
    return { status: statuses[sub.path] ?? 500, body: 'x' };
  });
  const res = await handler(request('/c\n/c/a\nc/b\n/c/c\n/c/d\n/c/%C3%BC%20x\n', { accept: 'application/json' }));
  assert.is(res.status, 200);
  assert.is(await text(res), '{"Response Status": "502 Bad Gateway", "Response Body": "", "Number Deleted": 3, "Number Not Found": 1, "Errors": [["/c/c", "409 Conflict"], ["/c/d", "503 Service Unavailable"]]}');
  assert.is(seen.at(-1), '/v1/AUTH_test/c');
  assert.is(most, 2);
});

test('stops after max_failed_deletes failures', async () => {
  let calls = 0;
  const handler = bulk(context(), {}, { ...DEFAULT_BULK_OPTIONS, maxDeletesPerRequest: 100, maxFailedDeletes: 3, deleteConcurrency: 1 })(async () => {
    calls++;
    return { status: 403 };
  });
  const res = await handler(request(Array.from({ length: 10 }, (_, i) => `/c/o${i}`).join('\n'), { accept: 'application/json' }));
  const result = JSON.parse(await text(res));
  assert.is(calls, 3);
  assert.is(result['Response Status'], '400 Bad Request');
  assert.is(result['Response Body'], 'Max delete failures exceeded');
  assert.is(result.Errors.length, 3);
});

test('keep-alive: a space (XML: the declaration first) per yield_frequency of waiting, then a blank line and the result', async () => {
  for (const [accept, first] of [['application/json', ' '], ['application/xml', '<?xml version="1.0" encoding="UTF-8"?>\n']] as const) {
    const clock = new ManualClock();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const handler = bulk(context(clock), {})(async () => {
      await gate;
      return { status: 204 };
    });
    const res = await handler(request('/c/o', { accept }));
    const iterator = (res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const firstChunk = iterator.next();
    await new Promise((r) => setTimeout(r, 5));
    clock.advance(10_000);
    assert.is(Buffer.from((await firstChunk).value as Uint8Array).toString(), first);
    const second = iterator.next();
    await new Promise((r) => setTimeout(r, 5));
    clock.advance(10_000);
    assert.is(Buffer.from((await second).value as Uint8Array).toString(), ' ');
    const third = iterator.next();
    release();
    const rest = Buffer.from((await third).value as Uint8Array).toString();
    assert.ok(rest.startsWith('\r\n\r\n'), JSON.stringify(rest));
    assert.match(rest, /200 OK/);
    assert.ok((await iterator.next()).done);
  }
});

test('no keep-alive output when the work is quick', async () => {
  const handler = bulk(context(), {})(async () => ({ status: 204 }));
  const body = await text(await handler(request('/c/o', { accept: 'application/xml' })));
  assert.ok(body.startsWith('<delete>\n'), body);
});

test('requests without ?bulk-delete, or with other methods, pass through', async () => {
  let passed = 0;
  const handler = bulk(context(), {})(async () => {
    passed++;
    return { status: 204 };
  });
  await handler(request('/c/o', {}, ''));
  await handler({ ...request('/c/o'), method: 'GET' });
  assert.is(passed, 2);
});

test.run();
