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
