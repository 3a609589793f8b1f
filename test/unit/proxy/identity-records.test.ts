import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../common/clock.ts';
import { nullLogger } from '../../../common/logger.ts';
import { IdentityRecords } from '../../../proxy/identity-records.ts';
import type { ProxyRequest } from '../../../proxy/request.ts';

/** Identity's `revoke-events` behind a stand-in for the proxy's controllers, counting what is asked. */
function eventsApp(keys: readonly string[]) {
  const asked: { path: string; query: string; newest: boolean }[] = [];
  const app = async (req: ProxyRequest) => {
    asked.push({ path: req.path, query: req.query.toString(), newest: req.headers['x-newest'] === 'true' });
    if (req.path.endsWith('/revoke-events')) {
      const marker = req.query.get('marker') ?? '';
      const limit = Number(req.query.get('limit') ?? 10_000);
      return { status: 200, body: JSON.stringify(keys.filter((k) => k > marker).slice(0, limit).map((name) => ({ name }))) };
    }
    return { status: 200, body: JSON.stringify({ user_id: 'u' }) };
  };
  return { records: new IdentityRecords(app, 'AUTH_.identity', { clock: systemClock, logger: nullLogger }), asked };
}

// Every proxy worker polls the events every 2 s: with X-Newest each poll was three container
// GETs for the rows of one (a container's newest answer is chosen by its put timestamp, not its
// rows), and a poll that found events listed a second time to learn that nothing followed.
test('the revocation poll lists one replica, once when the page is short', async () => {
  const { records, asked } = eventsApp(['000000000000001-a', '000000000000002-b']);
  assert.equal(await records.keysAfter('000000000000000'), ['000000000000001-a', '000000000000002-b']);
  assert.is(asked.length, 1);
  assert.is(asked[0]?.newest, false);
  assert.equal(await records.keysAfter('000000000000002-b'), []);
  assert.is(asked.length, 2);
});

test('a full page of keys is followed by the next page; an event itself is read from every replica', async () => {
  const keys = Array.from({ length: 1500 }, (_, i) => `${String(i).padStart(15, '0')}-x`);
  const { records, asked } = eventsApp(keys);
  assert.equal(await records.keysAfter(''), keys);
  assert.is(asked.length, 2);
  assert.ok(new URLSearchParams(asked[1]?.query).get('marker') === keys[999]);
  await records.get(keys[0] as string);
  assert.is(asked.at(-1)?.newest, true);
});

test.run();
