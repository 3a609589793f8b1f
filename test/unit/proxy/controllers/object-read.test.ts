import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackendError } from '../../../../common/errors.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { objectRead, WHOLE_READ_BYTES } from '../../../../proxy/controllers/object-read.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { fakeBackend, type FakeBehaviour } from '../../../helpers/fake-backend.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { fakeBackendDeps, fiveNodeTarget } from '../../../helpers/proxy-backend-deps.ts';
import { rejects } from '../../../helpers/rejects.ts';

const clock = new ManualClock();
const BODY = 'small object body, 38 bytes of it here';
const ETAG = 'd41d8cd98f00b204e9800998ecf8427e';

function getRequest(headers: Record<string, string> = {}): ProxyRequest {
  return { method: 'GET', path: '/v1/a/c/o', query: new URLSearchParams(), headers, body: (async function* () {})(), remoteAddress: '127.0.0.1', signal: new AbortController().signal, env: { transId: 'tx1', logger: nullLogger } };
}

function setUp(script: (node: string, range: string | undefined) => FakeBehaviour) {
  const t = fiveNodeTarget(clock);
  const primaries = t.ring.getPartNodes(0).map((n) => `${n.ip}:${n.port}`);
  const backend = fakeBackend((node, request) => script(node, request.headers?.['range']));
  return { t, primaries, backend, deps: fakeBackendDeps(clock, backend) };
}

const whole = (extra: Partial<Exclude<FakeBehaviour, 'refuse'>> = {}): FakeBehaviour => ({ status: 200, headers: { 'content-length': String(BODY.length), etag: ETAG }, body: BODY, ...extra });

test('a small object is answered with its whole body at once', async () => {
  const { t, deps } = setUp(() => whole());
  const res = await objectRead(deps, getRequest(), t, {}, false);
  assert.is(res.status, 200);
  assert.instance(res.body, Uint8Array, 'bytes, not a stream: headers and body leave in one write');
  assert.is(Buffer.from(res.body as Uint8Array).toString(), BODY);
  assert.is(res.given, undefined);
});

test('a small object whose replica breaks off mid-body is read whole from the next one, the same span of the same ETag', async () => {
  const { t, primaries, backend, deps } = setUp((node, range) => (node === primaries[0] ? whole({ breaksAfter: 10 }) : range === undefined ? whole() : { status: 206, headers: { 'content-length': String(BODY.length), 'content-range': `bytes 0-${BODY.length - 1}/${BODY.length}`, etag: ETAG }, body: BODY }));
  const res = await objectRead(deps, getRequest(), t, {}, false);
  assert.is(res.status, 200);
  assert.is(Buffer.from(res.body as Uint8Array).toString(), BODY, 'every byte right, none twice');
  const again = backend.requests[1];
  assert.is(again?.node, primaries[1]);
  assert.is(again?.headers['range'], `bytes=0-${BODY.length - 1}`);
  assert.is(again?.headers['if-match'], ETAG);
});

test('a small object every replica breaks off is a backend failure (the proxy answers 503), never a short body', async () => {
  const { t, deps } = setUp(() => whole({ breaksAfter: 10 }));
  const err = await rejects(objectRead(deps, getRequest(), t, {}, false));
  assert.instance(err, BackendError);
});

test('a body larger than the whole-read limit still streams', async () => {
  const big = 'x'.repeat(WHOLE_READ_BYTES + 1);
  const { t, deps } = setUp(() => ({ status: 200, headers: { 'content-length': String(big.length) }, body: big }));
  const res = await objectRead(deps, getRequest(), t, {}, false);
  assert.not.instance(res.body, Uint8Array);
  assert.is(res.given, true);
});

test.run();
