import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conditionalWrite } from '../../../../proxy/controllers/conditional-write.ts';
import { fakeBackend, type FakeBehaviour } from '../../../helpers/fake-backend.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { fakeBackendDeps, fiveNodeTarget } from '../../../helpers/proxy-backend-deps.ts';

const clock = new ManualClock();

const target = () => fiveNodeTarget(clock, ['AUTH_.records', 'users', 'u1']);

function deps(script: (node: string, headers: Readonly<Record<string, string>>) => FakeBehaviour) {
  return fakeBackendDeps(clock, fakeBackend((node, request) => script(node, request.headers ?? {})));
}

const slots = [0, 1, 2].map((i) => ({ 'x-backend-if-match': 'abc', 'x-timestamp': '1.00000', 'x-container-partition': String(i) }));
const signal = new AbortController().signal;

test('the first primary judges alone; the others get the write without the condition, after it accepted', async () => {
  const t = target();
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const d = deps(() => ({ status: 201 }));
  const reply = await conditionalWrite(d, t, { method: 'PUT', headersPerSlot: slots, body: Buffer.from('{}') }, signal);
  assert.is(reply.status, 201);
  const sent = d.backend.requests;
  assert.equal(sent.map((r) => r.node), primaries);
  assert.is(sent[0]?.headers['x-backend-if-match'], 'abc');
  for (const follower of sent.slice(1)) {
    assert.is(follower.headers['x-backend-if-match'], undefined);
    assert.is(follower.headers['x-timestamp'], '1.00000', 'the same version everywhere');
    assert.is(follower.body.toString(), '{}');
  }
  assert.equal(sent.map((r) => r.headers['x-container-partition']), ['0', '1', '2'], 'each slot keeps its container updates');
});

test('a refused condition is the answer, and no other replica is written', async () => {
  const t = target();
  const d = deps(() => ({ status: 412 }));
  const reply = await conditionalWrite(d, t, { method: 'DELETE', headersPerSlot: slots }, signal);
  assert.is(reply.status, 412);
  assert.is(d.backend.requests.length, 1);
});

test('a leader that is down is replaced by the next node, which then judges', async () => {
  const t = target();
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const d = deps((node) => (node === primaries[0] ? 'refuse' : { status: 201 }));
  const reply = await conditionalWrite(d, t, { method: 'PUT', headersPerSlot: slots, body: Buffer.from('{}') }, signal);
  assert.is(reply.status, 201);
  const judged = d.backend.requests.filter((r) => r.headers['x-backend-if-match'] === 'abc').map((r) => r.node);
  assert.equal(judged, [primaries[1]], 'the refusing first primary records nothing; the second judged');
  assert.is(d.backend.requests.filter((r) => r.headers['x-backend-if-match'] === undefined).length, 2, 'two followers: the last primary and a handoff');
});

test('followers failing after the leader accepted leave no quorum: 503', async () => {
  const t = target();
  const d = deps((_, headers) => (headers['x-backend-if-match'] ? { status: 201 } : { status: 507 }));
  const reply = await conditionalWrite(d, t, { method: 'PUT', headersPerSlot: slots, body: Buffer.from('{}') }, signal);
  assert.is(reply.status, 503);
});

test.run();
