import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../common/clock.ts';
import { UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { SwiftClient } from '../../../client/swift-client.ts';
import { SwiftRecordStore } from '../../../client/swift-record-store.ts';
import { startCluster, type TestCluster } from '../../helpers/cluster.ts';
import { suite } from '../../conformance/record-store.ts';

let cluster: TestCluster | undefined;
let http: UndiciBackendClient | undefined;

suite('SwiftRecordStore on an in-process cluster', {
  async open() {
    cluster = await startCluster({ users: { 'user_.records_svc': 'svcpass .admin' } });
    http = new UndiciBackendClient();
    const client = new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.records:svc', key: 'svcpass' }, { http, clock: systemClock });
    return new SwiftRecordStore(client);
  },
  async cleanup() {
    await http?.close();
    await cluster?.close();
  },
});

// The compute agent polls its queue every second: a queue nobody had written to was a 404 from
// every replica and a handoff each time, for as long as no server was ever booted.
test('ensureType makes the type\'s container, empty, so that polling it finds a container', async () => {
  const c = await startCluster({ users: { 'user_.records_svc': 'svcpass .admin' } });
  const h = new UndiciBackendClient();
  try {
    const client = new SwiftClient({ authUrl: `http://127.0.0.1:${c.port}/auth/v1.0`, user: '.records:svc', key: 'svcpass' }, { http: h, clock: systemClock });
    const store = new SwiftRecordStore(client);
    assert.is(await client.listContainer('queue'), undefined);
    await store.ensureType('queue');
    assert.equal(await client.listContainer('queue'), []);
    await store.create('queue', 'host/1', { task: 'build' });
    assert.equal((await store.list('queue', { prefix: 'host/', newest: false })).entries.map((e) => e.key), ['host/1']);
  } finally {
    await h.close();
    await c.close();
  }
});

// undici ends the connection after a HEAD unless told not to: every HEAD (a service's to the
// proxy, as the image service's listings and every backup's container check make them, and the
// proxy's own to the nodes, counted here too: the cluster is in this process) was a new connection.
test('a change mark and a container check reuse the connection (a HEAD through undici closed it every time)', async () => {
  const c = await startCluster({ users: { 'user_.records_svc': 'svcpass .admin' } });
  const h = new UndiciBackendClient();
  let connections = 0;
  const connected = (): void => {
    connections++;
  };
  subscribe('undici:client:connected', connected);
  try {
    const client = new SwiftClient({ authUrl: `http://127.0.0.1:${c.port}/auth/v1.0`, user: '.records:svc', key: 'svcpass' }, { http: h, clock: systemClock });
    const store = new SwiftRecordStore(client);
    assert.is(await store.changeMark('image'), '', 'no container yet');
    await store.create('image', 'one', { name: 'cirros' });
    const first = await store.changeMark('image');
    assert.match(first, /\/1\/\d+$/, 'the object count and bytes used of the container');
    await store.noteChange('image');
    assert.is.not(await store.changeMark('image'), first, 'a noted change is a new mark');
    const before = connections;
    for (let i = 0; i < 20; i++) {
      await store.changeMark('image');
      await client.ensureContainer('image');
    }
    assert.is(connections - before, 0, `${connections - before} new connections for 40 calls`);
  } finally {
    unsubscribe('undici:client:connected', connected);
    await h.close();
    await c.close();
  }
});

test.run();
