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

test.run();
