import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerSyncSignature, ContainerSyncRealms, validateSyncTo } from '../../../common/container-sync-realms.ts';
import { nullLogger } from '../../../common/logger.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const REALMS = `
[DEFAULT]
mtime_check_interval = 60

[us]
key = realmkey
key2 = nextkey
cluster_dfw1 = http://dfw1.example.com/v1/
cluster_ORD1 = https://ord1.example.com:8443/v1

[empty]
key = k
`;

async function withRealms(text: string | undefined, fn: (realms: ContainerSyncRealms, path: string, clock: ManualClock) => Promise<void>): Promise<void> {
  const dir = await makeTempDir();
  try {
    const path = join(dir.path, 'container-sync-realms.conf');
    if (text !== undefined) await writeFile(path, text);
    const clock = new ManualClock();
    await fn(new ContainerSyncRealms(path, { clock, logger: nullLogger }), path, clock);
  } finally {
    await dir.remove();
  }
}

test('realms, keys, clusters and endpoints are read from container-sync-realms.conf, names in any case', () =>
  withRealms(REALMS, async (realms) => {
    assert.equal(realms.realms().sort(), ['EMPTY', 'US']);
    assert.is(realms.key('Us'), 'realmkey');
    assert.is(realms.key2('US'), 'nextkey');
    assert.equal(realms.clusters('us'), ['DFW1', 'ORD1']);
    assert.is(realms.endpoint('us', 'ord1'), 'https://ord1.example.com:8443/v1');
    assert.is(realms.endpoint('us', 'nope'), undefined);
    assert.equal(realms.clusters('empty'), []);
  }));

test('a changed file is read again once mtime_check_interval has passed; a missing file is no realms', async () => {
  await withRealms(REALMS, async (realms, path, clock) => {
    await writeFile(path, '[eu]\nkey = x\ncluster_fra = http://fra/v1/\n');
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    assert.equal(realms.realms().sort(), ['EMPTY', 'US'], 'not looked at yet');
    clock.advance(61_000);
    assert.equal(realms.realms(), ['EU']);
  });
  await withRealms(undefined, async (realms) => {
    assert.equal(realms.realms(), []);
    assert.is(realms.key('us'), undefined);
  });
});

test("the signature is Swift's get_sig: HMAC-SHA1 of method, path, X-Timestamp, nonce and the container's key", () => {
  // Known answer from Python: hmac.new(b'realmkey', b'PUT\n/v1/AUTH_a/c/o%20x\n1700000000.00000\nabc123\nuserkey', sha1)
  assert.is(containerSyncSignature('PUT', '/v1/AUTH_a/c/o%20x', '1700000000.00000', 'abc123', 'realmkey', 'userkey'), '0579da91b35041173ff05271890871153039714f');
});

test('X-Container-Sync-To values are checked as Swift checks them, with its messages', () =>
  withRealms(REALMS, async (realms) => {
    const hosts = ['127.0.0.1', '::1'];
    assert.equal(validateSyncTo('//US/DFW1/AUTH_b/c2/', hosts, realms), { endpoint: 'http://dfw1.example.com/v1/AUTH_b/c2', realm: 'US', realmKey: 'realmkey' });
    assert.equal(validateSyncTo('http://127.0.0.1:8080/v1/AUTH_b/c2', hosts, realms), { endpoint: 'http://127.0.0.1:8080/v1/AUTH_b/c2' });
    assert.equal(validateSyncTo('http://[::1]:8080/v1/AUTH_b/c2', hosts, realms), { endpoint: 'http://[::1]:8080/v1/AUTH_b/c2' });
    assert.equal(validateSyncTo('', hosts, realms), { none: true });
    const errors: [string, string][] = [
      ['//US/DFW1/AUTH_b', "Invalid X-Container-Sync-To format '//US/DFW1/AUTH_b'"],
      ['//EU/X/a/c', "No realm key for 'EU'"],
      ['//us/lax/a/c', "No cluster endpoint for 'us' 'lax'"],
      ['ftp://127.0.0.1/v1/a/c', `Invalid scheme 'ftp' in X-Container-Sync-To, must be "//", "http", or "https".`],
      ['127.0.0.1/v1/a/c', `Invalid scheme '' in X-Container-Sync-To, must be "//", "http", or "https".`],
      ['http://127.0.0.1', 'Path required in X-Container-Sync-To'],
      ['http://127.0.0.1/v1/a/c?x=1', 'Params, queries, and fragments not allowed in X-Container-Sync-To'],
      ['http://127.0.0.1/v1/a;p', 'Params, queries, and fragments not allowed in X-Container-Sync-To'],
      ['http://evil.example.com/v1/a/c', "Invalid host 'evil.example.com' in X-Container-Sync-To"],
    ];
    for (const [value, message] of errors) assert.equal(validateSyncTo(value, hosts, realms), { error: message }, value);
  }));

test.run();
