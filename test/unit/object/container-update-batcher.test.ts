import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackendClient, BackendNode, BackendRequest, BackendResponse } from '../../../common/http/backend-client.ts';
import type { AsyncUpdate } from '../../../object/async-pending.ts';
import { ContainerUpdateBatcher, type ContainerTarget } from '../../../object/container-update-batcher.ts';

interface Held {
  readonly node: string;
  readonly request: BackendRequest;
  answer(status: number): void;
}

/** A backend whose every request waits until the test answers it. */
function gatedBackend(): BackendClient & { readonly held: Held[] } {
  const held: Held[] = [];
  return {
    held,
    request(node: BackendNode, request: BackendRequest): Promise<BackendResponse> {
      return new Promise((resolve) => {
        held.push({
          node: `${node.ip}:${node.port}`,
          request,
          answer: (status) => resolve({ status, headers: {}, body: { async *[Symbol.asyncIterator]() {}, text: async () => '', json: async () => null, bytes: async () => Buffer.alloc(0), dump: async () => {} } }),
        });
      });
    },
    async close() {},
  };
}

const target: ContainerTarget = { ip: '127.0.0.1', port: 6201, device: 'sdb', partition: '17' };
const put = (obj: string, at: string, container = 'c'): AsyncUpdate => ({ op: 'PUT', account: 'AUTH_a', container, obj, headers: { 'x-timestamp': at, 'x-size': '4', 'x-content-type': 'text/plain', 'x-etag': `etag-${obj}` } });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('updates that arrive while one is in flight to the same container go together as one UPDATE; each caller hears its outcome', async () => {
  const backend = gatedBackend();
  const batcher = new ContainerUpdateBatcher({ backend, timeoutMs: 1000 });
  const first = batcher.send(target, put('o1', '0000000001.00000'), 'tx1');
  await tick();
  assert.is(backend.held.length, 1);
  assert.is(backend.held[0]?.request.method, 'PUT', 'alone, as Swift sends it');
  assert.is(backend.held[0]?.request.path, '/sdb/17/AUTH_a/c/o1');
  assert.is(backend.held[0]?.request.headers?.['x-size'], '4');

  const later = [
    batcher.send(target, put('o2', '0000000003.00000'), 'tx2'),
    batcher.send(target, { op: 'DELETE', account: 'AUTH_a', container: 'c', obj: 'o3', headers: { 'x-timestamp': '0000000002.00000' } }, 'tx3'),
  ];
  await tick();
  assert.is(backend.held.length, 1, 'nothing more while one is in flight');
  backend.held[0]?.answer(201);
  assert.is(await first, undefined);
  await tick();
  assert.is(backend.held.length, 2);
  const batch = backend.held[1] as Held;
  assert.is(batch.request.method, 'UPDATE');
  assert.is(batch.request.path, '/sdb/17/AUTH_a/c');
  assert.is(batch.request.headers?.['x-timestamp'], '0000000003.00000', 'the newest of the batch');
  assert.is(batch.request.headers?.['x-trans-id'], 'tx2');
  const rows = JSON.parse(String(batch.request.body)) as Record<string, unknown>[];
  assert.equal(rows.map((r) => [r['name'], r['deleted'], r['created_at']]), [['o2', 0, '0000000003.00000'], ['o3', 1, '0000000002.00000']]);
  assert.is(rows[0]?.['size'], 4);
  assert.is(rows[0]?.['etag'], 'etag-o2');
  batch.answer(202);
  assert.equal(await Promise.all(later), [undefined, undefined]);
});

test('a refused batch fails every update in it (each saves its async pending); another container is not held up', async () => {
  const backend = gatedBackend();
  const batcher = new ContainerUpdateBatcher({ backend, timeoutMs: 1000 });
  const first = batcher.send(target, put('o1', '0000000001.00000'));
  const waiting = [batcher.send(target, put('o2', '0000000002.00000')), batcher.send(target, put('o3', '0000000003.00000'))];
  const other = batcher.send(target, put('x', '0000000004.00000', 'other'));
  await tick();
  assert.equal(backend.held.map((h) => h.request.path), ['/sdb/17/AUTH_a/c/o1', '/sdb/17/AUTH_a/other/x']);
  backend.held[1]?.answer(201);
  assert.is(await other, undefined);
  backend.held[0]?.answer(201);
  await first;
  await tick();
  backend.held[2]?.answer(507);
  assert.equal(await Promise.all(waiting), ['status 507', 'status 507']);
  // The queue is gone once empty: the next update goes alone again.
  const next = batcher.send(target, put('o4', '0000000005.00000'));
  await tick();
  assert.is(backend.held[3]?.request.method, 'PUT');
  backend.held[3]?.answer(201);
  assert.is(await next, undefined);
});

test.run();
