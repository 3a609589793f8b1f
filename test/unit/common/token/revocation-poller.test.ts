import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../../common/logger.ts';
import { newRevokeEvent, RevocationList, revokeEventKey, type RevokeEvent } from '../../../../common/token/revocation.ts';
import { RevocationPoller, type RevocationSource } from '../../../../common/token/revocation-poller.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const logger = createLogger({ level: 'error', sink: () => {} });
const HOUR = 3_600_000;

function source(): RevocationSource & { store: Map<string, RevokeEvent>; markers: string[]; gets: string[]; fail: boolean } {
  const store = new Map<string, RevokeEvent>();
  const s = {
    store,
    markers: [] as string[],
    gets: [] as string[],
    fail: false,
    async keysAfter(marker: string) {
      s.markers.push(marker);
      if (s.fail) throw new Error('proxy down');
      return [...store.keys()].filter((k) => k > marker).sort();
    },
    async get(key: string) {
      s.gets.push(key);
      return store.get(key);
    },
  };
  return s;
}

const facts = (userId: string, issuedAt: number) => ({ userId, userDomainId: 'd', roleIds: [], auditId: 'a', auditChainId: 'a', issuedAt, expiresAt: issuedAt + HOUR });

test('the first pass reads back one token life; later passes only what is new, each event once', async () => {
  const clock = new ManualClock();
  const src = source();
  const old = newRevokeEvent({ user_id: 'ancient' }, clock.now() - 2 * HOUR);
  const recent = newRevokeEvent({ user_id: 'u1' }, clock.now() - 60_000);
  src.store.set(revokeEventKey(old), old);
  src.store.set(revokeEventKey(recent), recent);
  const list = new RevocationList();
  const poller = new RevocationPoller(src, list, { clock, logger }, { intervalMs: 2000, maxTokenLifeMs: HOUR, lookbackMs: 10_000 });
  await poller.poll();
  assert.is(list.size, 1, 'older than any live token: not even read');
  assert.ok(list.revoked(facts('u1', clock.now() - 120_000)));
  clock.advance(2000);
  const next = newRevokeEvent({ user_id: 'u2' }, clock.now());
  src.store.set(revokeEventKey(next), next);
  await poller.poll();
  assert.ok(list.revoked(facts('u2', clock.now() - 1000)));
  assert.is(src.gets.length, 2, 'the event seen before is not read again');
  assert.is(Number(src.markers[1]), clock.now() - 2000 - 10_000, 'from the last pass minus the lookback');
});

test('an event that sorts before the marker of the last pass (a clock behind) is still found within the lookback', async () => {
  const clock = new ManualClock();
  const src = source();
  const list = new RevocationList();
  const poller = new RevocationPoller(src, list, { clock, logger }, { intervalMs: 2000, maxTokenLifeMs: HOUR, lookbackMs: 10_000 });
  await poller.poll();
  clock.advance(2000);
  const late = newRevokeEvent({ user_id: 'u3' }, clock.now() - 5000);
  src.store.set(revokeEventKey(late), late);
  await poller.poll();
  assert.is(list.size, 1);
});

test('a failed pass changes nothing, and the next one starts from where the last good one did', async () => {
  const clock = new ManualClock();
  const src = source();
  const list = new RevocationList();
  const poller = new RevocationPoller(src, list, { clock, logger }, { intervalMs: 2000, maxTokenLifeMs: HOUR, lookbackMs: 10_000 });
  await poller.poll();
  const good = poller.lastSuccess;
  src.fail = true;
  clock.advance(60_000);
  await poller.poll().catch(() => undefined);
  assert.is(poller.lastSuccess, good);
  src.fail = false;
  const missed = newRevokeEvent({ user_id: 'u4' }, clock.now() - 30_000);
  src.store.set(revokeEventKey(missed), missed);
  await poller.poll();
  assert.is(list.size, 1);
});

test('start polls at once, then every interval until stopped', async () => {
  const clock = new ManualClock();
  const src = source();
  const poller = new RevocationPoller(src, new RevocationList(), { clock, logger }, { intervalMs: 2000, maxTokenLifeMs: HOUR });
  await poller.start();
  assert.is(src.markers.length, 1);
  clock.advance(2000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(src.markers.length, 2);
  await poller.stop();
  clock.advance(10_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(src.markers.length, 2);
});

test.run();
