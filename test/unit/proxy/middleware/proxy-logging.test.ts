import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../../common/logger.ts';
import { proxyLogging } from '../../../../proxy/middleware/proxy-logging.ts';
import { ProxyMetrics } from '../../../../proxy/metrics.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

/** One GET through proxy-logging; the log lines it wrote and the metrics' request counts. */
async function logged(status: number, body: AsyncIterable<Uint8Array> | Uint8Array, clientLeaves: 'before-answer' | 'mid-body' | 'never') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', sink: (line) => lines.push(JSON.parse(line)) });
  const metrics = new ProxyMetrics({ limitedNodes: () => 0, rings: () => ({}) });
  const client = new AbortController();
  const req: ProxyRequest = {
    method: 'GET',
    path: '/v1/AUTH_test/c/o',
    query: new URLSearchParams(),
    headers: {},
    body: (async function* () {})(),
    remoteAddress: '127.0.0.1',
    signal: client.signal,
    env: { transId: 'tx', logger },
  };
  const handler = proxyLogging(new ManualClock(), true, metrics)(async () => {
    if (clientLeaves === 'before-answer') client.abort(new Error('client disconnected'));
    return { status, headers: {}, body };
  });
  const res = await handler(req);
  if (res.body && typeof res.body !== 'string' && !(res.body instanceof Uint8Array)) {
    for await (const _ of res.body as AsyncIterable<Uint8Array>) {
      if (clientLeaves === 'mid-body') {
        client.abort(new Error('client disconnected'));
        break;
      }
    }
  }
  const counts = (await metrics.registry.getSingleMetric('swiftlet_proxy_requests_total')?.get())?.values.map((v) => v.labels.status);
  return { statuses: lines.filter((l) => l['msg'] === 'request').map((l) => l['status']), counts };
}

async function* twoChunks() {
  yield new Uint8Array(4);
  yield new Uint8Array(4);
}

test('a request whose client stayed is logged with its answer’s status', async () => {
  assert.equal(await logged(503, new Uint8Array(3), 'never'), { statuses: [503], counts: ['503'] });
  assert.equal(await logged(200, twoChunks(), 'never'), { statuses: [200], counts: ['200'] });
});

test('client gone before its answer: logged and counted 499 as Swift does, not the 503 of backend requests cut short', async () => {
  assert.equal(await logged(503, new Uint8Array(3), 'before-answer'), { statuses: [499], counts: ['499'] });
});

test('client gone in the middle of a download: 499, not the 200 it began with', async () => {
  assert.equal(await logged(200, twoChunks(), 'mid-body'), { statuses: [499], counts: ['499'] });
});

test.run();
