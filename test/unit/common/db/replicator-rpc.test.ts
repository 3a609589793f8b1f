import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accountServerSchema } from '../../../../account/config.ts';
import { AccountServer } from '../../../../account/server.ts';
import { defaultConfig } from '../../../../common/config.ts';
import { encodeRecord } from '../../../../common/db/record-codec.ts';
import { replicateCall, replicateLoad, type ReplicateTarget } from '../../../../common/db/replicator-client.ts';
import type { ReplicationInfo } from '../../../../common/db/replication-info.ts';
import { HashPath } from '../../../../common/hash-path.ts';
import { UndiciBackendClient } from '../../../../common/http/backend-client.ts';
import { listen } from '../../../../common/http/server.ts';
import { createLogger } from '../../../../common/logger.ts';
import { storageSchema } from '../../../../common/storage-config.ts';
import { Timestamp } from '../../../../common/timestamp.ts';
import type { ContainerDatadir } from '../../../../container/backend.ts';
import { containerServerSchema } from '../../../../container/config.ts';
import { ContainerServer } from '../../../../container/server.ts';
import { fakeBackend } from '../../../helpers/fake-backend.ts';
import { httpRequest } from '../../../helpers/http.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

const hashPath = new HashPath('', 'rpc-test');
const defaults = defaultConfig({ storage: storageSchema, 'container-server': containerServerSchema, 'account-server': accountServerSchema });
const T = (s: number): string => (1_700_000_000 + s).toFixed(5);
const HASH = hashPath.hash('AUTH_a', 'c');

interface Rig {
  readonly port: number;
  readonly client: UndiciBackendClient;
  target(device: string): ReplicateTarget;
  datadir(device: string): Promise<ContainerDatadir>;
  put(device: string, path: string, headers: Record<string, string>): Promise<number>;
  list(device: string): Promise<string>;
}

/** One container server with two devices, standing in for two replicas. */
async function withRig(fn: (rig: Rig) => Promise<void>): Promise<void> {
  const dir = await makeTempDir('swiftlet-replicate-');
  await mkdir(join(dir.path, 'sda1'));
  await mkdir(join(dir.path, 'sdb1'));
  const logger = createLogger({ sink: () => {} });
  const server = new ContainerServer({ storage: { ...defaults.storage, devices: dir.path }, containerServer: defaults['container-server'] }, { clock: new ManualClock(), logger, backend: fakeBackend(() => ({ status: 201 })), hashPath });
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger });
  const client = new UndiciBackendClient();
  try {
    await fn({
      port: http.port,
      client,
      target: (device) => ({ node: { ip: '127.0.0.1', port: http.port }, device, partition: 5, hash: HASH }),
      datadir: (device) => server.datadirs.get(device),
      put: async (device, path, headers) => (await httpRequest(http.port, 'PUT', `/${device}/5/AUTH_a/c${path}`, headers)).status,
      list: async (device) => (await httpRequest(http.port, 'GET', `/${device}/5/AUTH_a/c?format=json`)).body.toString(),
    });
  } finally {
    await client.close();
    await http.close();
    await server.close();
    await dir.remove();
  }
}

const object = (at: number, size = 1): Record<string, string> => ({ 'X-Timestamp': T(at), 'X-Size': String(size), 'X-Content-Type': 'text/plain', 'X-Etag': 'etag' });

test('sync on a replica that has no database is a 404; load creates it from a dump (201), once (409)', async () => {
  await withRig(async (rig) => {
    await rig.put('sda1', '', { 'X-Timestamp': T(1), 'X-Container-Meta-Color': 'red' });
    for (let i = 0; i < 25; i++) await rig.put('sda1', `/o${i}`, object(2 + i, i));
    await httpRequest(rig.port, 'DELETE', '/sda1/5/AUTH_a/c/o1', { 'X-Timestamp': T(100) });
    const source = (await rig.datadir('sda1')).broker(HASH);
    const info = await source.getReplicationInfo();
    assert.is((await replicateCall(rig.client, rig.target('sdb1'), 'sync', info)).status, 404);
    const loaded = await replicateLoad(rig.client, rig.target('sdb1'), info.id, source.dump(7));
    assert.is(loaded.status, 201);
    assert.is(await rig.list('sdb1'), await rig.list('sda1'));
    const head = await httpRequest(rig.port, 'HEAD', '/sdb1/5/AUTH_a/c');
    assert.is(head.headers['x-container-meta-color'], 'red');
    assert.is(head.headers['x-container-object-count'], '24');
    const synced = await replicateCall(rig.client, rig.target('sdb1'), 'sync', info);
    assert.is(synced.status, 200);
    const remote = synced.body as ReplicationInfo & { point: number };
    assert.is(remote.hash, info.hash);
    assert.is(remote.point, info.max_row, 'the loaded replica is in sync with its source up to the last row');
    assert.is.not(remote.id, info.id);
    assert.is((await replicateLoad(rig.client, rig.target('sdb1'), info.id, source.dump())).status, 409);
  });
});

test('a replication pass with rows_since, merge_items and merge_syncs brings two replicas together', async () => {
  await withRig(async (rig) => {
    for (const dev of ['sda1', 'sdb1']) await rig.put(dev, '', { 'X-Timestamp': T(1) });
    for (let i = 0; i < 30; i++) await rig.put('sda1', `/a${i}`, object(10 + i, i));
    for (let i = 0; i < 5; i++) await rig.put('sdb1', `/b${i}`, object(50 + i, 100));
    await rig.put('sdb1', '/a3', object(5, 1)); // an older version of a row sda1 has
    const local = (await rig.datadir('sda1')).broker(HASH);
    const remote = rig.target('sdb1');
    // 1. sync: exchange info; the answer says where to start.
    const info = await local.getReplicationInfo();
    const answer = await replicateCall(rig.client, remote, 'sync', info);
    let point = (answer.body as { point: number }).point;
    assert.is(point, -1);
    // 2. send our rows since that point, in pages, with our id as the source.
    for (let rows = await local.getItemsSince(point, 8); rows.length > 0; rows = await local.getItemsSince(point, 8)) {
      assert.is((await replicateCall(rig.client, remote, 'merge_items', rows, info.id)).status, 202);
      point = rows.at(-1)?.ROWID as number;
    }
    // 3. hand over our sync table, and remember where the remote is.
    assert.is((await replicateCall(rig.client, remote, 'merge_syncs', await local.getSyncs())).status, 202);
    await local.mergeSyncs([{ remote_id: (answer.body as ReplicationInfo).id, sync_point: point }], false);
    const got = await replicateCall(rig.client, remote, 'get_sync', info.id);
    assert.equal(got.body, { sync_point: info.max_row });
    const listing = JSON.parse(await rig.list('sdb1')) as { name: string; bytes: number }[];
    assert.is(listing.length, 35);
    assert.is(listing.find((o) => o.name === 'a3')?.bytes, 3, 'the newer row won');
    // The other direction, pulled with rows_since.
    const pulled = await replicateCall(rig.client, remote, 'rows_since', -1, 10_000);
    await local.mergeWireItems((pulled.body as { rows: unknown[] }).rows);
    assert.is(await rig.list('sda1'), await rig.list('sdb1'));
    const [a, b] = await Promise.all([local.getReplicationInfo(), (await rig.datadir('sdb1')).broker(HASH).getReplicationInfo()]);
    assert.is(a.hash, b.hash, 'same rows, same hash');
  });
});

test('rows_since pages by sequence; get_syncs and merge_syncs keep incoming and outgoing apart', async () => {
  await withRig(async (rig) => {
    await rig.put('sda1', '', { 'X-Timestamp': T(1) });
    for (let i = 0; i < 6; i++) await rig.put('sda1', `/o${i}`, object(2 + i));
    const t = rig.target('sda1');
    const first = (await replicateCall(rig.client, t, 'rows_since', -1, 4)).body as { rows: { name: string; ROWID: number }[] };
    assert.equal(first.rows.map((r) => r.name), ['o0', 'o1', 'o2', 'o3']);
    const next = (await replicateCall(rig.client, t, 'rows_since', first.rows.at(-1)?.ROWID, 4)).body as { rows: { name: string }[] };
    assert.equal(next.rows.map((r) => r.name), ['o4', 'o5']);
    assert.is((await replicateCall(rig.client, t, 'merge_syncs', [{ remote_id: 'r1', sync_point: 9 }], false)).status, 202);
    assert.equal((await replicateCall(rig.client, t, 'get_syncs', false)).body, [{ remote_id: 'r1', sync_point: 9 }]);
    assert.equal((await replicateCall(rig.client, t, 'get_syncs')).body, []);
    assert.equal((await replicateCall(rig.client, t, 'get_sync', 'r1', false)).body, { sync_point: 9 });
    assert.equal((await replicateCall(rig.client, t, 'get_sync', 'r1')).body, { sync_point: -1 });
  });
});

test('malformed REPLICATE requests are 400s and change nothing; a missing device is 507', async () => {
  await withRig(async (rig) => {
    await rig.put('sda1', '', { 'X-Timestamp': T(1) });
    const t = rig.target('sda1');
    const raw = async (path: string, body: Uint8Array | string): Promise<number> => (await rig.client.request(t.node, { method: 'REPLICATE', path, body })).status;
    assert.is(await raw(`/sda1/5/${HASH}`, 'not msgpack \u00c1\u00c1'), 400);
    assert.is(await raw(`/sda1/5/${HASH}`, encodeRecord({ op: 'sync' })), 400);
    assert.is(await raw(`/sda1/5/${HASH}`, encodeRecord(['explode'])), 400);
    assert.is(await raw('/sda1/5/not-a-hash', encodeRecord(['get_syncs'])), 400);
    assert.is(await raw(`/sda1/5/${HASH}`, encodeRecord(['sync', { hash: 'x' }])), 400);
    assert.is(await raw(`/sda1/5/${HASH}`, encodeRecord(['merge_items', [{ name: 'x', created_at: 'never' }]])), 400);
    assert.is(await raw(`/sda1/5/${HASH}`, encodeRecord(['rows_since', 'zero'])), 400);
    assert.is(await raw(`/sdx1/5/${HASH}`, encodeRecord(['get_syncs'])), 507);
    assert.is(await raw(`/sda1/5/${hashPath.hash('AUTH_a', 'other')}`, encodeRecord(['get_syncs'])), 404);
    assert.is((await httpRequest(rig.port, 'HEAD', '/sda1/5/AUTH_a/c')).headers['x-container-object-count'], '0');
  });
});

test('the account server serves the same RPC', async () => {
  const dir = await makeTempDir('swiftlet-replicate-account-');
  await mkdir(join(dir.path, 'sda1'));
  await mkdir(join(dir.path, 'sdb1'));
  const logger = createLogger({ sink: () => {} });
  const server = new AccountServer({ storage: { ...defaults.storage, devices: dir.path }, accountServer: defaults['account-server'] }, { clock: new ManualClock(), logger, hashPath });
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger });
  const client = new UndiciBackendClient();
  try {
    await httpRequest(http.port, 'PUT', '/sda1/2/AUTH_a', { 'X-Timestamp': T(1) });
    await httpRequest(http.port, 'PUT', '/sda1/2/AUTH_a/c', { 'X-Put-Timestamp': T(2), 'X-Delete-Timestamp': new Timestamp(0).internal, 'X-Object-Count': '4', 'X-Bytes-Used': '40' });
    const hash = hashPath.hash('AUTH_a');
    const source = (await server.datadirs.get('sda1')).broker(hash);
    const target = { node: { ip: '127.0.0.1', port: http.port }, device: 'sdb1', partition: 2, hash };
    assert.is((await replicateLoad(client, target, 'src', source.dump())).status, 201);
    const head = await httpRequest(http.port, 'HEAD', '/sdb1/2/AUTH_a');
    assert.is(head.headers['x-account-object-count'], '4');
    const rows = (await replicateCall(client, target, 'rows_since', -1, 10)).body as { rows: { name: string; object_count: number }[] };
    assert.equal(rows.rows.map((r) => [r.name, r.object_count]), [['c', 4]]);
  } finally {
    await client.close();
    await http.close();
    await server.close();
    await dir.remove();
  }
});

test.run();
