import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackendError } from '../../../common/errors.ts';
import type { BackendRequest, BackendResponse } from '../../../common/http/backend-client.ts';
import { makeRequests } from '../../../proxy/backend-requests.ts';
import { fakeBackend, type FakeBehaviour } from '../../helpers/fake-backend.ts';
import { fakeBackendDeps, fiveNodeTarget } from '../../helpers/proxy-backend-deps.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const target = (clock: ManualClock) => fiveNodeTarget(clock);
const deps = (clock: ManualClock, script: (node: string, request: BackendRequest) => FakeBehaviour) => fakeBackendDeps(clock, fakeBackend(script));

const slots = [{}, {}, {}];

test('regression: a write whose replicas all answered leaves no post-quorum timer behind', async () => {
  const clock = new ManualClock();
  const d = deps(clock, () => ({ status: 201 }));
  const { best } = await makeRequests(d, target(clock), { method: 'DELETE', headersPerSlot: slots });
  assert.is(best.status, 201);
  assert.is(clock.sleeping, 0, 'a timer per request, each holding its request for half a second, under every small write');
});

test('a straggler after the quorum gets the post-quorum time, and its timer goes once it answers', async () => {
  const clock = new ManualClock();
  const t = target(clock);
  const last = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`)[2] as string;
  const d = deps(clock, () => ({ status: 201 }));
  let answerLast: ((r: BackendResponse) => void) | undefined;
  const fake = d.backend.request.bind(d.backend);
  d.backend.request = (node, req) => (`${node.ip}:${node.port}` === last ? new Promise((resolve) => (answerLast = resolve)) : fake(node, req));
  const done = makeRequests(d, t, { method: 'DELETE', headersPerSlot: slots });
  while (clock.sleeping === 0) await new Promise((resolve) => setImmediate(resolve));
  answerLast?.(await fake({ ip: '10.0.0.9', port: 1 }, { method: 'DELETE', path: '/' }));
  const { replies } = await done;
  assert.equal(replies.map((r) => r.status), [201, 201, 201], 'the straggler counted, not cut at the timeout');
  assert.is(clock.sleeping, 0);
});

test('a client gone before the write starts stops every replica request', async () => {
  const clock = new ManualClock();
  const d = deps(clock, () => ({ status: 201 }));
  const seen: (AbortSignal | undefined)[] = [];
  d.backend.request = (node, req) => {
    seen.push(req.signal);
    return Promise.reject(new BackendError('BACKEND_ABORTED', `${node.ip}:${node.port}`, 'aborted'));
  };
  const client = new AbortController();
  client.abort(new Error('client disconnected'));
  const { best } = await makeRequests(d, target(clock), { method: 'DELETE', headersPerSlot: slots }, client.signal);
  assert.is(best.status, 503);
  assert.equal(seen, [], 'no replica asked');
});

test.run();
