import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SwiftClient } from '../../../../../client/swift-client.ts';
import { type Clock, systemClock } from '../../../../../common/clock.ts';
import { UndiciBackendClient } from '../../../../../common/http/backend-client.ts';
import { ChunkedBackupEngine } from '../../../../../compute/volume/backup/chunked-backup.ts';
import type { PiecedBody } from '../../../../../compute/volume/backup/object-store.ts';
import { BackupStoreError } from '../../../../../compute/volume/backup/store-errors.ts';
import { SwiftBackupObjectStore } from '../../../../../compute/volume/backup/swift-object-store.ts';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { startCluster, type TestCluster } from '../../../../helpers/cluster.ts';
import { rejects } from '../../../../helpers/rejects.ts';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';

/**
 * Bug: a backup that outlived its token failed at its sha256 file: the one PUT streamed from
 * pieces was not sent again after a 401, where every other PUT fetches a new token and is.
 * The cluster's clock jumps past the token's life (a day) between the extents and the sha256
 * file, so the proxy refuses the token the client still holds as good.
 */

/** The cluster's clock: the system's, plus what the test moves it on by. */
const skew = { ms: 0 };
const clusterClock: Clock = { now: () => systemClock.now() + skew.ms, monotonic: () => systemClock.monotonic(), sleep: (ms, signal) => systemClock.sleep(ms, signal) };
const DAY = 86_400_000;

let cluster: TestCluster;
let http: UndiciBackendClient;

test.before(async () => {
  cluster = await startCluster({ clock: clusterClock });
  http = new UndiciBackendClient();
});
test.after(async () => {
  await http.close();
  await cluster.close();
});

function serviceStore(): SwiftBackupObjectStore {
  return new SwiftBackupObjectStore(new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: 'test:tester', key: 'testing' }, { http, clock: systemClock }));
}

function pieced(bytes: Uint8Array, pieceBytes: number): PiecedBody {
  return {
    length: bytes.length,
    *pieces() {
      for (let at = 0; at < bytes.length; at += pieceBytes) yield bytes.subarray(at, at + pieceBytes);
    },
  };
}

test('a pieced PUT answered 401 (the token expired at the proxy) is sent again with a new token, whole', async () => {
  const store = serviceStore();
  await store.ensureContainer('reauth');
  await store.put('reauth', 'extent', knownData(4096, 1));
  skew.ms += 2 * DAY;
  const bytes = knownData(300 * 1024, 2);
  await store.put('reauth', 'sha256file', pieced(bytes, 64 * 1024));
  assert.ok(Buffer.from(await store.get('reauth', 'sha256file')).equals(bytes));
});

test('a backup whose token expires between its extents and its sha256 file completes, and restores byte for byte', async () => {
  const store = serviceStore();
  const driver = new MemoryVolumeDriver();
  const size = 1024 * 1024;
  await driver.createVolume('v1', size);
  const data = knownData(size, 3);
  await writeVolume(driver, 'v1', data);
  // The clock moves on when the engine sends the sha256 file (after the extents were sent).
  const timed = Object.create(store) as SwiftBackupObjectStore;
  timed.put = (container, name, body, md5) => {
    if (name.endsWith('_sha256file')) skew.ms += 2 * DAY;
    return store.put(container, name, body, md5);
  };
  const engine = new ChunkedBackupEngine({ chunkSizeBytes: 64 * 1024, shaBlockSizeBytes: 8 * 1024 }, { store: timed, clock: systemClock });
  const source = await driver.openVolume('v1', 'r');
  const backup = await engine.backup({ id: 'b1', volumeId: 'v1', name: null, description: null, createdAt: '2026-12-07 01:00:00+00:00' }, source).finally(() => source.close());
  const names = await store.listNames(backup.container, backup.serviceMetadata);
  assert.ok(names.includes(`${backup.serviceMetadata}_sha256file`));
  await driver.createVolume('v2', size);
  const target = await driver.openVolume('v2', 'rw');
  await engine.restore([backup], target, { volumeIsNew: true }).finally(() => target.close());
  assert.ok((await readVolume(driver, 'v2')).equals(data));
});

test("on someone else's token (preauth: a user's own), a pieced PUT's 401 is an error that says there is no new token, and nothing is stored", async () => {
  const token = await cluster.token();
  const store = new SwiftBackupObjectStore(new SwiftClient({ preauthUrl: `http://127.0.0.1:${cluster.port}/v1/AUTH_test`, preauthToken: token }, { http, clock: systemClock }));
  await store.ensureContainer('reauth-user');
  skew.ms += 2 * DAY;
  const err = await rejects(store.put('reauth-user', 'sha256file', pieced(knownData(100 * 1024, 4), 32 * 1024)), BackupStoreError);
  assert.match((err as Error).message, /401 Unauthorized: the token expired or was revoked, and it is the caller's own/);
  const fresh = serviceStore();
  assert.equal(await fresh.listNames('reauth-user', ''), []);
});

test.run();
