import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../client/memory-record-store.ts';
import { createLogger } from '../../../common/logger.ts';
import { REVOKE_EVENT_TYPE } from '../../../common/token/revocation.ts';
import { Revocations } from '../../../identity/revocations.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const logger = createLogger({ level: 'error', sink: () => {} });
const HOUR = 3_600_000;

test('an event is in the cluster and in this process at once; another process has it after its poll', async () => {
  const clock = new ManualClock();
  const records = new MemoryRecordStore();
  const here = new Revocations(records, { clock, logger }, { intervalMs: 2000, maxTokenLifeMs: HOUR });
  const there = new Revocations(records, { clock, logger }, { intervalMs: 2000, maxTokenLifeMs: HOUR });
  await here.revoke({ user_id: 'u1' });
  const facts = { userId: 'u1', userDomainId: 'd', roleIds: [], auditId: 'a', auditChainId: 'a', issuedAt: clock.now() - 1000, expiresAt: clock.now() + HOUR };
  assert.ok(here.list.revoked(facts));
  assert.not.ok(there.list.revoked(facts));
  await there.poll();
  assert.ok(there.list.revoked(facts));
  assert.is((await records.list(REVOKE_EVENT_TYPE)).entries.length, 1);
});

test('prune removes only event records older than any live token (plus an hour)', async () => {
  const clock = new ManualClock();
  const records = new MemoryRecordStore();
  const revocations = new Revocations(records, { clock, logger }, { intervalMs: 2000, maxTokenLifeMs: HOUR });
  await revocations.revoke({ user_id: 'old' });
  clock.advance(2 * HOUR + 1000);
  await revocations.revoke({ user_id: 'new' });
  assert.is(await revocations.prune(), 1);
  const left = await records.list(REVOKE_EVENT_TYPE);
  assert.is(left.entries.length, 1);
  assert.is((await records.get<{ user_id: string }>(REVOKE_EVENT_TYPE, left.entries[0]?.key as string))?.value.user_id, 'new');
});

test.run();
