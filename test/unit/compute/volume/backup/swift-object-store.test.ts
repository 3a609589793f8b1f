import { systemClock } from '../../../../../common/clock.ts';
import { UndiciBackendClient } from '../../../../../common/http/backend-client.ts';
import { SwiftClient } from '../../../../../client/swift-client.ts';
import { SwiftBackupObjectStore } from '../../../../../compute/volume/backup/swift-object-store.ts';
import { suite } from '../../../../conformance/backup-object-store.ts';
import { startCluster, type TestCluster } from '../../../../helpers/cluster.ts';

let cluster: TestCluster | undefined;
let http: UndiciBackendClient | undefined;

suite('Swift, on an in-process cluster', {
  async open() {
    cluster = await startCluster();
    http = new UndiciBackendClient();
    return new SwiftBackupObjectStore(new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: 'test:tester', key: 'testing' }, { http, clock: systemClock }));
  },
  async cleanup() {
    await http?.close();
    await cluster?.close();
  },
});
