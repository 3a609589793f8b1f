import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerSyncSignature } from '../../../../common/container-sync-realms.ts';
import { HttpError } from '../../../../common/http/http-error.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { nullLogger } from '../../../../common/logger.ts';
import type { ProxyContext } from '../../../../proxy/context.ts';
import type { ContainerInfo } from '../../../../proxy/info-cache.ts';
import { containerSync } from '../../../../proxy/middleware/container-sync.ts';
import type { Capabilities } from '../../../../proxy/middleware/info.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

const REALMS = '[US]\nkey = realmkey\nkey2 = nextkey\ncluster_dfw1 = http://dfw1/v1/\ncluster_ord1 = http://ord1/v1/\n[LONELY]\nkey = k\n';

function request(method: string, path: string, headers: Record<string, string>): ProxyRequest {
  return { method, path, query: new URLSearchParams(), headers, body: (async function* () {})(), remoteAddress: '127.0.0.1', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

interface Rig {
  capabilities: Capabilities;
  lookups: string[];
  run(req: ProxyRequest): Promise<{ response: ServerResponse; passed: ProxyRequest | undefined }>;
}

async function withRig(fn: (rig: Rig) => Promise<void>, options: { allow_full_urls?: boolean; info?: Partial<ContainerInfo> } = {}): Promise<void> {
  const dir = await makeTempDir();
  try {
    await writeFile(join(dir.path, 'container-sync-realms.conf'), REALMS);
    const lookups: string[] = [];
    const info = { status: 204, objectCount: 0, bytes: 0, policyIndex: '0', meta: {}, sysmeta: {}, syncKey: 'userkey', ...options.info };
    const ctx = {
      config: { swift_dir: dir.path },
      clock: new ManualClock(),
      logger: nullLogger,
      info: {
        container: async (a: string, c: string) => {
          lookups.push(`${a}/${c}`);
          return info;
        },
      },
    } as unknown as ProxyContext;
    const capabilities: Capabilities = {};
    let passed: ProxyRequest | undefined;
    const handler = containerSync(ctx, capabilities, { allow_full_urls: options.allow_full_urls ?? true, current: '//us/ord1' })(async (req) => {
      passed = req;
      return { status: 201 };
    });
    await fn({
      capabilities,
      lookups,
      run: async (req) => {
        passed = undefined;
        return { response: await handler(req), passed };
      },
    });
  } finally {
    await dir.remove();
  }
}

const signed = (method: string, path: string, timestamp: string, key = 'realmkey', userKey = 'userkey'): string => `US nonce1 ${containerSyncSignature(method, path, timestamp, 'nonce1', key, userKey)}`;

test("/info lists the realms that have clusters, this cluster marked current", () =>
  withRig(async ({ capabilities }) => {
    assert.equal(JSON.parse(JSON.stringify(capabilities))['container_sync'], { realms: { US: { clusters: { DFW1: {}, ORD1: { current: true } } } } });
  }));

test('a request signed with the realm key (or key2) and the container key gets in, for that container only', () =>
  withRig(async ({ run }) => {
    for (const key of ['realmkey', 'nextkey']) {
      const path = '/v1/AUTH_b/c2/a%20b';
      const { response, passed } = await run(request('PUT', path, { 'x-timestamp': '1700000000.00000', 'x-container-sync-auth': signed('PUT', path, '1700000000.00000', key) }));
      assert.is(response.status, 201);
      const authorize = passed?.env.authorize;
      assert.ok(authorize);
      assert.equal(await authorize({ method: 'PUT', account: 'AUTH_b', container: 'c2', object: 'a b' }), { owner: false });
      assert.instance((await authorize({ method: 'PUT', account: 'AUTH_b', container: 'other', object: 'a b' })).denied, HttpError);
    }
  }));

test('a bad signature, an unknown realm, a container without a key or a malformed header is 401 with Swift\'s body', () =>
  withRig(async ({ run }) => {
    const path = '/v1/AUTH_b/c2/o';
    const bad = [
      signed('PUT', path, '1700000000.00001'), // signed for another timestamp
      signed('DELETE', path, '1700000000.00000'), // for another method
      signed('PUT', path, '1700000000.00000', 'wrongkey'),
      `EU nonce1 ${containerSyncSignature('PUT', path, '1700000000.00000', 'nonce1', 'realmkey', 'userkey')}`,
      'US only-two',
    ];
    for (const auth of bad) {
      await rejects(run(request('PUT', path, { 'x-timestamp': '1700000000.00000', 'x-container-sync-auth': auth })), (err: unknown) => {
        const e = err as HttpError;
        return e instanceof HttpError && e.status === 401 && e.body === 'X-Container-Sync-Auth header not valid; contact cluster operator for support.' && e.headers['Www-Authenticate'] === 'SwiftContainerSync realm="AUTH_b"';
      });
    }
  }));

test('a container with no sync key admits no signed request', () =>
  withRig(
    async ({ run }) => {
      const path = '/v1/AUTH_b/c2/o';
      await rejects(run(request('PUT', path, { 'x-timestamp': '1', 'x-container-sync-auth': signed('PUT', path, '1') })), (err: unknown) => err instanceof HttpError && err.status === 401);
    },
    { info: { syncKey: undefined } },
  ));

test('sync-to on a versioned container, or a full URL when allow_full_urls is off, is 400; other requests cost no lookup', async () => {
  await withRig(
    async ({ run, lookups }) => {
      await rejects(run(request('POST', '/v1/AUTH_a/c', { 'x-container-sync-to': '//us/dfw1/AUTH_b/c2' })), (err: unknown) => err instanceof HttpError && err.status === 400 && /object versioning/.test(err.body ?? ''));
      assert.equal(lookups, ['AUTH_a/c']);
    },
    { info: { sysmeta: { 'versions-container': 'v' } } },
  );
  await withRig(
    async ({ run, lookups }) => {
      await rejects(run(request('PUT', '/v1/AUTH_a/c', { 'x-container-sync-to': 'http://127.0.0.1/v1/AUTH_b/c2' })), (err: unknown) => err instanceof HttpError && err.status === 400 && /Full URLs are not allowed/.test(err.body ?? ''));
      assert.is((await run(request('PUT', '/v1/AUTH_a/c', { 'x-container-sync-to': '//us/dfw1/AUTH_b/c2' }))).response.status, 201);
      lookups.length = 0;
      assert.is((await run(request('GET', '/v1/AUTH_a/c/o', {}))).response.status, 201);
      assert.is((await run(request('PUT', '/v1/AUTH_a/c/o', { 'x-timestamp': '1' }))).response.status, 201);
      assert.equal(lookups, [], 'no container info fetched for requests without sync headers');
    },
    { allow_full_urls: false },
  );
});

test.run();
