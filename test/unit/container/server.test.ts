import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AccountServer } from '../../../account/server.ts';
import { accountServerSchema } from '../../../account/config.ts';
import { defaultConfig } from '../../../common/config.ts';
import { HashPath } from '../../../common/hash-path.ts';
import { type BackendClient, UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { type HttpServer, listen } from '../../../common/http/server.ts';
import { createLogger } from '../../../common/logger.ts';
import { storageSchema } from '../../../common/storage-config.ts';
import { StoragePolicies } from '../../../common/storage-policy.ts';
import { containerServerSchema } from '../../../container/config.ts';
import { ContainerServer } from '../../../container/server.ts';
import { DatabaseNoSpaceError } from '../../../common/db/errors.ts';
import type { KvOp, KvOpener } from '../../../common/db/kv.ts';
import { MemoryKv } from '../../../common/db/memory-kv.ts';
import type { AsyncUpdate } from '../../../object/async-pending.ts';
import { objectRow } from '../../../object/container-update-batcher.ts';
import { fakeBackend } from '../../helpers/fake-backend.ts';
import { httpRequest, type TestResponse } from '../../helpers/http.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const hashPath = new HashPath('', 'test-suffix');
const defaults = defaultConfig({ storage: storageSchema, 'container-server': containerServerSchema, 'account-server': accountServerSchema });
const T = (s: number): string => (1_700_000_000 + s).toFixed(5);

interface Node {
  readonly port: number;
  readonly clock: ManualClock;
  readonly logs: string[];
  readonly devices: string;
  req(method: string, path: string, headers?: Record<string, string>): Promise<TestResponse>;
}

async function withServer(fn: (node: Node) => Promise<void>, options: { backend?: BackendClient; allowVersions?: boolean; mountCheck?: boolean; kvOpener?: KvOpener } = {}): Promise<void> {
  const dir = await makeTempDir('swiftlet-container-server-');
  await mkdir(join(dir.path, 'sda1'));
  const logs: string[] = [];
  const logger = createLogger({ sink: (l) => logs.push(l), level: 'debug' });
  const clock = new ManualClock(1_700_000_000_000);
  const server = new ContainerServer(
    { storage: { ...defaults.storage, devices: dir.path, mount_check: options.mountCheck ?? false }, containerServer: { ...defaults['container-server'], allow_versions: options.allowVersions ?? false } },
    { clock, logger, backend: options.backend ?? fakeBackend(() => ({ status: 201 })), hashPath, policies: StoragePolicies.of([{ index: 0, name: 'Policy-0', default: true }, { index: 1, name: 'gold' }]), ...(options.kvOpener ? { kvOpener: options.kvOpener } : {}) },
  );
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger });
  try {
    await fn({ port: http.port, clock, logs, devices: dir.path, req: (method, path, headers = {}) => httpRequest(http.port, method, path, headers) });
  } finally {
    await http.close();
    await server.close();
    await dir.remove();
  }
}

const putContainer = (n: Node, path: string, at: number, headers: Record<string, string> = {}): Promise<TestResponse> => n.req('PUT', path, { 'X-Timestamp': T(at), ...headers });
const putObject = (n: Node, path: string, at: number, size = 3, headers: Record<string, string> = {}): Promise<TestResponse> =>
  n.req('PUT', path, { 'X-Timestamp': T(at), 'X-Size': String(size), 'X-Content-Type': 'text/plain', 'X-Etag': 'd41d8cd98f00b204e9800998ecf8427e', ...headers });

test('PUT creates a container (201), again accepts it (202); HEAD shows its info', async () => {
  await withServer(async (n) => {
    const created = await putContainer(n, '/sda1/5/AUTH_a/c', 1, { 'X-Backend-Storage-Policy-Index': '0' });
    assert.is(created.status, 201);
    assert.is(created.headers['x-backend-storage-policy-index'], '0');
    n.clock.advance(10_000);
    const again = await putContainer(n, '/sda1/5/AUTH_a/c', 2);
    assert.is(again.status, 202);
    assert.is(again.body.toString(), '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>');
    const head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.status, 204);
    assert.is(head.headers['x-container-object-count'], '0');
    assert.is(head.headers['x-container-bytes-used'], '0');
    assert.is(head.headers['x-timestamp'], '1700000000.00000', 'created_at: when the database was made');
    assert.is(head.headers['x-put-timestamp'], T(2));
    assert.is(head.headers['x-backend-timestamp'], '1700000000.00000');
    assert.is(head.headers['x-backend-put-timestamp'], T(2));
    assert.is(head.headers['x-backend-delete-timestamp'], '0000000000.00000');
    assert.is(head.headers['x-backend-status-changed-at'], T(1));
    assert.is(head.headers['x-backend-storage-policy-index'], '0');
    assert.is(head.headers['content-type'], 'text/plain; charset=utf-8');
    assert.is(head.headers['last-modified'], 'Tue, 14 Nov 2023 22:13:22 GMT');
    assert.is(head.body.length, 0);
  });
});

test('HEAD and GET of a missing container: 404 with zero backend timestamps', async () => {
  await withServer(async (n) => {
    for (const method of ['HEAD', 'GET']) {
      const res = await n.req(method, '/sda1/5/AUTH_a/nope');
      assert.is(res.status, 404);
      assert.is(res.headers['x-backend-put-timestamp'], '0000000000.00000');
      assert.is(res.headers['x-backend-storage-policy-index'], '0');
      assert.is(res.headers['x-container-object-count'], undefined);
    }
  });
});

test('a PUT naming another policy than the live container\'s is a 409 and changes nothing', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1, { 'X-Backend-Storage-Policy-Index': '0' });
    const res = await putContainer(n, '/sda1/5/AUTH_a/c', 2, { 'X-Backend-Storage-Policy-Index': '1' });
    assert.is(res.status, 409);
    assert.is(res.headers['x-backend-storage-policy-index'], '0');
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/c')).headers['x-put-timestamp'], T(1));
  }, { backend: fakeBackend(() => ({ status: 201 })) });
});

test('a deleted container is recreated by a newer PUT, which may pick a new policy', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(3) })).status, 204);
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 2)).status, 409, 'older than the delete: still deleted');
    const res = await putContainer(n, '/sda1/5/AUTH_a/c', 4, { 'X-Backend-Storage-Policy-Index': '1' });
    assert.is(res.status, 201);
    assert.is(res.headers['x-backend-storage-policy-index'], '1');
    const head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.headers['x-backend-status-changed-at'], T(4));
    assert.is(head.headers['x-backend-delete-timestamp'], T(3));
  });
});

test('a new container takes X-Backend-Storage-Policy-Default when no index is given', async () => {
  await withServer(async (n) => {
    const res = await putContainer(n, '/sda1/5/AUTH_a/c', 1, { 'X-Backend-Storage-Policy-Default': '1' });
    assert.is(res.headers['x-backend-storage-policy-index'], '1');
  });
});

test('metadata and the kept headers are stored, returned, changed by POST and removed by an empty value', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1, {
      'X-Container-Meta-Color': 'blue',
      'X-Container-Meta-Unicode': Buffer.from('caf\u00e9', 'utf8').toString('latin1'),
      'X-Container-Read': '.r:*',
      'X-Container-Write': 'AUTH_a',
      'X-Container-Sync-Key': 'secret',
      'X-Container-Sysmeta-Thing': 'sys',
      'X-Versions-Location': 'versions',
      'X-Other-Header': 'dropped',
    });
    let head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.headers['x-container-meta-color'], 'blue');
    assert.is(Buffer.from(head.headers['x-container-meta-unicode'] ?? '', 'latin1').toString('utf8'), 'caf\u00e9');
    assert.is(head.headers['x-container-read'], '.r:*');
    assert.is(head.headers['x-container-write'], 'AUTH_a');
    assert.is(head.headers['x-container-sync-key'], 'secret');
    assert.is(head.headers['x-container-sysmeta-thing'], 'sys');
    assert.is(head.headers['x-versions-location'], undefined, 'only kept with allow_versions');
    assert.is(head.headers['x-other-header'], undefined);
    const post = await n.req('POST', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(2), 'X-Container-Meta-Color': '', 'X-Remove-Container-Meta-Unicode': 'x', 'X-Container-Meta-New': 'n' });
    assert.is(post.status, 204);
    head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.headers['x-container-meta-color'], undefined);
    assert.is(head.headers['x-container-meta-unicode'], undefined);
    assert.is(head.headers['x-container-meta-new'], 'n');
    assert.is(head.headers['x-put-timestamp'], T(2), 'a POST moves the put timestamp, as in Swift');
    const stale = await n.req('POST', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1), 'X-Container-Meta-New': 'older' });
    assert.is(stale.status, 204);
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/c')).headers['x-container-meta-new'], 'n', 'older metadata loses');
  });
});

test('X-Versions-Location is kept with allow_versions', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1, { 'X-Versions-Location': 'versions' });
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/c')).headers['x-versions-location'], 'versions');
  }, { allowVersions: true });
});

test('POST to a missing or deleted container is a 404', async () => {
  await withServer(async (n) => {
    assert.is((await n.req('POST', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1) })).status, 404);
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(2) });
    assert.is((await n.req('POST', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(3), 'X-Container-Meta-A': 'b' })).status, 404);
  });
});

test('object rows: PUT 201, DELETE 204 (a tombstone); counts follow; newest wins', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    assert.is((await putObject(n, '/sda1/5/AUTH_a/c/o1', 2, 10)).status, 201);
    assert.is((await putObject(n, '/sda1/5/AUTH_a/c/dir/o2', 2, 20, { 'X-Backend-Storage-Policy-Index': '0' })).status, 201);
    assert.is((await putObject(n, '/sda1/5/AUTH_a/c/o1', 1, 99)).status, 201, 'an older update is accepted and ignored');
    let head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.headers['x-container-object-count'], '2');
    assert.is(head.headers['x-container-bytes-used'], '30');
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c/o1', { 'X-Timestamp': T(3) })).status, 204);
    head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.headers['x-container-object-count'], '1');
    assert.is(head.headers['x-container-bytes-used'], '20');
    assert.is((await n.req('GET', '/sda1/5/AUTH_a/c')).body.toString(), 'dir/o2\n');
  });
});

test('object updates to a missing container are 404; a system account\'s container is made on demand', async () => {
  await withServer(async (n) => {
    assert.is((await putObject(n, '/sda1/5/AUTH_a/nope/o', 1)).status, 404);
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/nope/o', { 'X-Timestamp': T(1) })).status, 404);
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/nope')).status, 404, 'nothing was created');
    assert.is((await putObject(n, '/sda1/5/.expiring_objects/1700000000/o', 1, 0, { 'X-Backend-Storage-Policy-Index': '0' })).status, 201);
    assert.is((await n.req('HEAD', '/sda1/5/.expiring_objects/1700000000')).headers['x-container-object-count'], '1');
  });
});

test('concurrent object updates over HTTP keep the counts exact', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    await Promise.all(Array.from({ length: 120 }, (_, i) => (i % 3 === 2 ? n.req('DELETE', `/sda1/5/AUTH_a/c/o${i - 1}`, { 'X-Timestamp': T(500 + i) }) : putObject(n, `/sda1/5/AUTH_a/c/o${i}`, 2 + i, i))));
    const head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    // o(3k) live, o(3k+1) deleted by the update at 3k+2.
    const live = Array.from({ length: 40 }, (_, k) => 3 * k);
    assert.is(head.headers['x-container-object-count'], String(live.length));
    assert.is(head.headers['x-container-bytes-used'], String(live.reduce((a, b) => a + b, 0)));
  });
});

test('DELETE: 409 while objects remain, 204 when empty, then 404; HEAD shows the tombstone timestamps', async () => {
  await withServer(async (n) => {
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1) })).status, 404);
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    await putObject(n, '/sda1/5/AUTH_a/c/o', 2);
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(3) })).status, 409);
    await n.req('DELETE', '/sda1/5/AUTH_a/c/o', { 'X-Timestamp': T(4) });
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(5) })).status, 204);
    const head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.status, 404);
    assert.is(head.headers['x-backend-delete-timestamp'], T(5));
    assert.is(head.headers['x-backend-put-timestamp'], T(1));
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(6) })).status, 404, 'already deleted');
  });
});

async function listingContainer(n: Node): Promise<void> {
  await putContainer(n, '/sda1/5/AUTH_a/c', 1, { 'X-Container-Meta-Color': 'blue' });
  await putObject(n, '/sda1/5/AUTH_a/c/a&b', 2, 5, { 'X-Content-Type': 'text/plain; charset=utf-8' });
  await putObject(n, '/sda1/5/AUTH_a/c/big', 3, 0, { 'X-Content-Type': 'application/octet-stream;swift_bytes=1048576', 'X-Etag': '"abc"' });
  await putObject(n, `/sda1/5/AUTH_a/c/${encodeURIComponent('d/caf\u00e9')}`, 4, 7);
}

test('GET lists in JSON exactly as Swift does (swift_bytes is the size; content type parameters re-joined)', async () => {
  await withServer(async (n) => {
    await listingContainer(n);
    const res = await n.req('GET', '/sda1/5/AUTH_a/c?format=json');
    assert.is(res.status, 200);
    assert.is(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.is(res.headers['x-container-object-count'], '3');
    assert.is(res.headers['x-container-meta-color'], 'blue');
    assert.is(res.headers['x-backend-record-type'], 'object');
    assert.is(
      res.body.toString(),
      '[{"bytes": 5, "hash": "d41d8cd98f00b204e9800998ecf8427e", "name": "a&b", "content_type": "text/plain;charset=utf-8", "last_modified": "2023-11-14T22:13:22.000000"}, ' +
        '{"bytes": 1048576, "hash": "\\"abc\\"", "name": "big", "content_type": "application/octet-stream", "last_modified": "2023-11-14T22:13:23.000000"}, ' +
        '{"bytes": 7, "hash": "d41d8cd98f00b204e9800998ecf8427e", "name": "d/caf\\u00e9", "content_type": "text/plain", "last_modified": "2023-11-14T22:13:24.000000"}]',
    );
    const dirs = await n.req('GET', '/sda1/5/AUTH_a/c?format=json&delimiter=/&prefix=d');
    assert.is(dirs.body.toString(), '[{"subdir": "d/"}]');
  });
});

test('GET lists in XML and plain text exactly as Swift does', async () => {
  await withServer(async (n) => {
    await listingContainer(n);
    const xml = await n.req('GET', '/sda1/5/AUTH_a/c?delimiter=/', { Accept: 'application/xml' });
    assert.is(xml.headers['content-type'], 'application/xml; charset=utf-8');
    assert.is(
      xml.body.toString(),
      '<?xml version="1.0" encoding="UTF-8"?>\n<container name="c">' +
        '<object><name>a&amp;b</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>5</bytes><content_type>text/plain;charset=utf-8</content_type><last_modified>2023-11-14T22:13:22.000000</last_modified></object>' +
        '<object><name>big</name><hash>"abc"</hash><bytes>1048576</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:23.000000</last_modified></object>' +
        '<subdir name="d/"><name>d/</name></subdir></container>',
    );
    const plain = await n.req('GET', '/sda1/5/AUTH_a/c');
    assert.is(plain.headers['content-type'], 'text/plain; charset=utf-8');
    assert.is(plain.body.toString(), 'a&b\nbig\nd/caf\u00e9\n');
    assert.is((await n.req('GET', '/sda1/5/AUTH_a/c', { Accept: 'text/xml' })).headers['content-type'], 'text/xml; charset=utf-8');
  });
});

test('an empty listing: 204 in plain text, 200 [] in JSON, 200 in XML', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    const plain = await n.req('GET', '/sda1/5/AUTH_a/c');
    assert.is(plain.status, 204);
    assert.is(plain.body.length, 0);
    const json = await n.req('GET', '/sda1/5/AUTH_a/c?format=json');
    assert.is(json.status, 200);
    assert.is(json.body.toString(), '[]');
    const xml = await n.req('GET', '/sda1/5/AUTH_a/c?format=xml');
    assert.is(xml.body.toString(), '<?xml version="1.0" encoding="UTF-8"?>\n<container name="c" />');
  });
});

test('GET listing parameters: prefix, delimiter, marker, end_marker, limit, reverse, path', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    for (const [i, name] of ['a', 'b/1', 'b/2', 'b/c/3', 'c'].entries()) await putObject(n, `/sda1/5/AUTH_a/c/${name}`, 2 + i);
    const list = async (q: string): Promise<string> => (await n.req('GET', `/sda1/5/AUTH_a/c?${q}`)).body.toString();
    assert.is(await list('prefix=b/'), 'b/1\nb/2\nb/c/3\n');
    assert.is(await list('delimiter=/'), 'a\nb/\nc\n');
    assert.is(await list('marker=b/1&end_marker=c'), 'b/2\nb/c/3\n');
    assert.is(await list('limit=2'), 'a\nb/1\n');
    assert.is(await list('limit=abc'), 'a\nb/1\nb/2\nb/c/3\nc\n', 'a limit that is not a number is ignored');
    assert.is(await list('reverse=on&limit=2'), 'c\nb/c/3\n');
    assert.is(await list('path=b'), 'b/1\nb/2\n');
    assert.is(await list('prefix=b%2F&delimiter=%2F&marker=b%2F1'), 'b/2\nb/c/\n');
  });
});

test('bad listing parameters: 412 over the limit, 400 for non-UTF-8, 406/400 for Accept', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    const over = await n.req('GET', '/sda1/5/AUTH_a/c?limit=10001');
    assert.is(over.status, 412);
    assert.is(over.body.toString(), 'Maximum limit is 10000');
    const utf = await n.req('GET', '/sda1/5/AUTH_a/c?prefix=%FF');
    assert.is(utf.status, 400);
    assert.is(utf.body.toString(), '"prefix" parameter not valid UTF-8');
    assert.is((await n.req('GET', '/sda1/5/AUTH_a/c', { Accept: 'image/png' })).status, 406);
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/c', { Accept: 'nonsense' })).status, 400);
  });
});

test('bad requests are refused with Swift\'s status and store nothing', async () => {
  await withServer(async (n) => {
    const cases: [string, string, Record<string, string>, number, string?][] = [
      ['PUT', '/sda1/5/AUTH_a/c', {}, 400, 'Missing X-Timestamp header'],
      ['PUT', '/sda1/5/AUTH_a/c', { 'X-Timestamp': 'yesterday' }, 400, 'Invalid X-Timestamp header'],
      ['PUT', `/sda1/5/AUTH_a/${'x'.repeat(257)}`, { 'X-Timestamp': T(1) }, 400, 'Container name length of 257 longer than 256'],
      ['PUT', `/sda1/5/${'a'.repeat(257)}/c`, { 'X-Timestamp': T(1) }, 400],
      ['PUT', '/sda1/5/AUTH_a/c%FF', { 'X-Timestamp': T(1) }, 412, 'Invalid UTF8 or contains NULL'],
      ['PUT', '/sda1/5/AUTH_a/c%00', { 'X-Timestamp': T(1) }, 400, 'Invalid reserved-namespace container'],
      ['PUT', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1), 'X-Container-Meta-Too-Long': 'v'.repeat(257) }, 400, 'Metadata value longer than 256: x-container-meta-too-long'],
      ['PUT', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1), [`X-Container-Meta-${'n'.repeat(129)}`]: 'v' }, 400],
      ['PUT', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1), 'X-Container-Meta-Bad': '\u00ff' }, 400, 'Metadata must be valid UTF-8'],
      ['PUT', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1), 'X-Backend-Storage-Policy-Index': '7' }, 400, "Invalid X-Storage-Policy-Index '7'"],
      ['PUT', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1), 'X-Account-Host': '127.0.0.1:1,127.0.0.1:2', 'X-Account-Device': 'sda1', 'X-Account-Partition': '1' }, 400],
      ['PUT', '/sda1/x/AUTH_a/c', { 'X-Timestamp': T(1) }, 400, 'Invalid partition: x'],
      ['PUT', '/sda1/5/AUTH_a', { 'X-Timestamp': T(1) }, 400, 'Invalid path: /sda1/5/AUTH_a'],
      ['POST', '/sda1/5/AUTH_a/c/o', { 'X-Timestamp': T(1) }, 400],
      ['PUT', '/sda9/5/AUTH_a/c', { 'X-Timestamp': T(1) }, 507],
      ['PATCH', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1) }, 405],
    ];
    for (const [method, path, headers, status, body] of cases) {
      const res = await n.req(method, path, headers);
      assert.is(res.status, status, `${method} ${path} ${JSON.stringify(headers).slice(0, 80)}`);
      if (body !== undefined) assert.is(res.body.toString(), body);
    }
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/c')).status, 404, 'none of them created the container');
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    const objectCases: [Record<string, string>, string][] = [
      [{ 'X-Timestamp': T(2), 'X-Content-Type': 't', 'X-Etag': 'e' }, 'Missing X-Size header'],
      [{ 'X-Timestamp': T(2), 'X-Size': '-1', 'X-Content-Type': 't', 'X-Etag': 'e' }, 'Invalid X-Size header'],
      [{ 'X-Timestamp': T(2), 'X-Size': '1', 'X-Etag': 'e' }, 'Missing X-Content-Type header'],
      [{ 'X-Timestamp': T(2), 'X-Size': '1', 'X-Content-Type': 't' }, 'Missing X-Etag header'],
      [{ 'X-Timestamp': T(2), 'X-Size': '1', 'X-Content-Type': 't', 'X-Etag': 'e', 'X-Meta-Timestamp': 'soon' }, 'Invalid X-Meta-Timestamp header'],
    ];
    for (const [headers, body] of objectCases) {
      const res = await n.req('PUT', '/sda1/5/AUTH_a/c/o', headers);
      assert.is(res.status, 400);
      assert.is(res.body.toString(), body);
    }
    assert.is((await n.req('PUT', `/sda1/5/AUTH_a/c/${'o'.repeat(1025)}`, { 'X-Timestamp': T(2), 'X-Size': '1', 'X-Content-Type': 't', 'X-Etag': 'e' })).status, 400);
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/c')).headers['x-container-object-count'], '0', 'no row was stored');
  });
});

test('metadata over the whole container\'s limit is refused and nothing changes', async () => {
  await withServer(async (n) => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 60; i++) many[`X-Container-Meta-A${i}`] = 'v';
    await putContainer(n, '/sda1/5/AUTH_a/c', 1, many);
    const more: Record<string, string> = {};
    for (let i = 0; i < 40; i++) more[`X-Container-Meta-B${i}`] = 'v';
    const res = await putContainer(n, '/sda1/5/AUTH_a/c', 2, more);
    assert.is(res.status, 400);
    assert.is(res.body.toString(), 'Too many metadata items; max 90');
    const head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.headers['x-put-timestamp'], T(1));
    assert.is(head.headers['x-container-meta-b0'], undefined);
    assert.is((await n.req('POST', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(3), ...more })).status, 400);
  });
});

test('mount_check refuses a device that is not a mount point (507)', async () => {
  await withServer(async (n) => {
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 1)).status, 507);
  }, { mountCheck: true });
});

test('container PUT and DELETE update every account replica named by the proxy', async () => {
  const backend = fakeBackend(() => ({ status: 201 }));
  await withServer(async (n) => {
    const account = { 'X-Account-Host': '10.0.0.1:6202, [::1]:6202', 'X-Account-Device': 'sdb1, sdc1', 'X-Account-Partition': '77', 'X-Trans-Id': 'tx123' };
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 1, { ...account, 'X-Backend-Storage-Policy-Index': '1' })).status, 201);
    assert.equal(backend.requests.map((r) => [r.node, r.method, r.path]).sort(), [['10.0.0.1:6202', 'PUT', '/sdb1/77/AUTH_a/c'], ['::1:6202', 'PUT', '/sdc1/77/AUTH_a/c']]);
    const sent = backend.requests.find((r) => r.node === '10.0.0.1:6202')?.headers ?? {};
    assert.is(sent['X-Put-Timestamp'], T(1));
    assert.is(sent['X-Delete-Timestamp'], '0000000000.00000');
    assert.is(sent['X-Object-Count'], '0');
    assert.is(sent['X-Bytes-Used'], '0');
    assert.is(sent['X-Backend-Storage-Policy-Index'], '1');
    assert.is(sent['X-Trans-Id'], 'tx123');
    backend.requests.length = 0;
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(2), ...account })).status, 204);
    assert.is(backend.requests.length, 2);
    assert.is(backend.requests[0]?.headers['X-Delete-Timestamp'], T(2));
  }, { backend });
});

test('when every account replica answers 404 the container PUT is a 404; other failures are logged and ignored', async () => {
  const account = { 'X-Account-Host': '10.0.0.1:6202,10.0.0.2:6202', 'X-Account-Device': 'sdb1,sdb1', 'X-Account-Partition': '77' };
  await withServer(async (n) => {
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 1, account)).status, 404);
    // As in Swift, the container itself was made; only the account is missing.
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/c')).status, 204);
  }, { backend: fakeBackend(() => ({ status: 404 })) });
  await withServer(async (n) => {
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 1, account)).status, 201);
  }, { backend: fakeBackend((node) => ({ status: node.startsWith('10.0.0.1:') ? 404 : 201 })) });
  await withServer(async (n) => {
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 1, account)).status, 201);
    assert.match(n.logs.join('\n'), /account update failed \(will retry later\).*"status":503/);
    assert.match(n.logs.join('\n'), /account update failed \(will retry later\).*ECONNREFUSED/);
  }, { backend: fakeBackend((node) => (node.startsWith('10.0.0.1:') ? { status: 503 } : 'refuse')) });
});

test('with a real account server: the container shows up in the account listing, and goes on delete', async () => {
  const dir = await makeTempDir('swiftlet-account-for-container-');
  await mkdir(join(dir.path, 'sdb1'));
  const logger = createLogger({ sink: () => {} });
  const accounts = new AccountServer({ storage: { ...defaults.storage, devices: dir.path }, accountServer: defaults['account-server'] }, { clock: new ManualClock(), logger, hashPath });
  const accountHttp: HttpServer = await listen(accounts.handle, { host: '127.0.0.1', port: 0, logger });
  const backend = new UndiciBackendClient();
  try {
    await withServer(async (n) => {
      const account = { 'X-Account-Host': `127.0.0.1:${accountHttp.port}`, 'X-Account-Device': 'sdb1', 'X-Account-Partition': '3' };
      assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 1, account)).status, 404, 'no account yet');
      assert.is((await httpRequest(accountHttp.port, 'PUT', '/sdb1/3/AUTH_a', { 'X-Timestamp': T(0) })).status, 201);
      assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 2, account)).status, 202);
      const listing = await httpRequest(accountHttp.port, 'GET', '/sdb1/3/AUTH_a?format=json');
      assert.is(listing.body.toString(), `[{"name": "c", "count": 0, "bytes": 0, "last_modified": "2023-11-14T22:13:22.000000"}]`);
      assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(3), ...account })).status, 204);
      assert.is((await httpRequest(accountHttp.port, 'GET', '/sdb1/3/AUTH_a')).status, 204, 'no containers left');
    }, { backend });
  } finally {
    await backend.close();
    await accountHttp.close();
    await accounts.close();
    await dir.remove();
  }
});

test('every request is logged with its status; after close the databases refuse work (503)', async () => {
  const dir = await makeTempDir('swiftlet-container-close-');
  await mkdir(join(dir.path, 'sda1'));
  const logs: string[] = [];
  const logger = createLogger({ sink: (l) => logs.push(l) });
  const server = new ContainerServer({ storage: { ...defaults.storage, devices: dir.path }, containerServer: defaults['container-server'] }, { clock: new ManualClock(), logger, backend: fakeBackend(() => ({ status: 201 })), hashPath });
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger });
  try {
    await httpRequest(http.port, 'PUT', '/sda1/5/AUTH_a/c', { 'X-Timestamp': T(1), 'X-Trans-Id': 'tx-log' });
    assert.match(logs.join('\n'), /"msg":"container-server request","method":"PUT","path":"\/sda1\/5\/AUTH_a\/c","status":201,"ms":\d+,"txn":"tx-log"/);
    await server.close();
    assert.is((await httpRequest(http.port, 'HEAD', '/sda1/5/AUTH_a/c')).status, 503);
  } finally {
    await http.close();
    await dir.remove();
  }
});

test('UPDATE merges object rows (Swift merge_items) as the same PUTs and DELETEs would; bad bodies are 400, a missing container 404', async () => {
  await withServer(async (n) => {
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    await putContainer(n, '/sda1/5/AUTH_a/single', 1);
    const updates: AsyncUpdate[] = [
      { op: 'PUT' as const, account: 'AUTH_a', container: 'c', obj: 'one', headers: { 'x-timestamp': T(2), 'x-size': '5', 'x-content-type': 'text/plain', 'x-etag': 'e1' } },
      { op: 'PUT' as const, account: 'AUTH_a', container: 'c', obj: 'two', headers: { 'x-timestamp': T(3), 'x-size': '7', 'x-content-type': 'image/png', 'x-etag': 'e2', 'x-content-type-timestamp': T(3), 'x-meta-timestamp': T(4) } },
      { op: 'PUT' as const, account: 'AUTH_a', container: 'c', obj: 'gone', headers: { 'x-timestamp': T(2), 'x-size': '1', 'x-content-type': 'text/plain', 'x-etag': 'e3' } },
      { op: 'DELETE' as const, account: 'AUTH_a', container: 'c', obj: 'gone', headers: { 'x-timestamp': T(5) } },
    ];
    const verb = { 'X-Backend-Verb': 'UPDATE', 'X-Timestamp': T(5), 'Content-Type': 'application/json' };
    const merged = await httpRequest(n.port, 'POST', '/sda1/5/AUTH_a/c', verb, JSON.stringify(updates.map(objectRow)));
    assert.is(merged.status, 202, merged.body.toString());
    // The same changes one request at a time, into another container.
    for (const u of updates) {
      const res = await n.req(u.op, `/sda1/5/AUTH_a/single/${u.obj}`, { ...u.headers });
      assert.ok(res.status < 300, `${u.op} ${u.obj}: ${res.status}`);
    }
    const listing = async (c: string) => JSON.parse((await n.req('GET', `/sda1/5/AUTH_a/${c}?format=json`)).body.toString()) as unknown[];
    assert.equal(await listing('c'), await listing('single'));
    assert.equal((await listing('c')).map((o) => (o as { name: string }).name), ['one', 'two']);
    const head = await n.req('HEAD', '/sda1/5/AUTH_a/c');
    assert.is(head.headers['x-container-object-count'], '2');
    assert.is(head.headers['x-container-bytes-used'], '12');

    const notJson = await httpRequest(n.port, 'POST', '/sda1/5/AUTH_a/c', verb, '{oops');
    assert.is(notJson.status, 400);
    assert.match(notJson.body.toString(), /not JSON/);
    assert.is((await httpRequest(n.port, 'POST', '/sda1/5/AUTH_a/c', verb, '{"name":"x"}')).status, 400);
    const badRow = await httpRequest(n.port, 'POST', '/sda1/5/AUTH_a/c', verb, JSON.stringify([{ name: 'x', created_at: T(6), size: -1, content_type: 't', etag: 'e', deleted: 0 }]));
    assert.is(badRow.status, 400);
    assert.equal((await listing('c')).length, 2, 'a refused batch changes nothing');
    assert.is((await httpRequest(n.port, 'POST', '/sda1/5/AUTH_a/nope', verb, JSON.stringify(updates.slice(0, 1).map(objectRow)))).status, 404);
  });
});

test('a device whose disk filled up answers 507 to writes (the proxy then benches it) and still serves reads', async () => {
  let full = false;
  class FillingKv extends MemoryKv {
    override async batch(ops: readonly KvOp[]): Promise<void> {
      if (full) throw new DatabaseNoSpaceError();
      return super.batch(ops);
    }
  }
  const kv = new FillingKv();
  await withServer(async (n) => {
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/c', 1)).status, 201);
    assert.is((await putObject(n, '/sda1/5/AUTH_a/c/o1', 2)).status, 201);
    full = true;
    assert.is((await putObject(n, '/sda1/5/AUTH_a/c/o2', 3)).status, 507);
    assert.is((await putContainer(n, '/sda1/6/AUTH_a/c2', 4)).status, 507);
    assert.is((await n.req('DELETE', '/sda1/5/AUTH_a/c/o1', { 'X-Timestamp': T(5) })).status, 507);
    const listing = await n.req('GET', '/sda1/5/AUTH_a/c?format=json');
    assert.is(listing.status, 200);
    assert.equal((JSON.parse(listing.body.toString()) as { name: string }[]).map((r) => r.name), ['o1']);
  }, { kvOpener: async () => kv });
});


test('reserved names: a NUL may lead a name, the namespaces do not mix, and listings leave them out unless asked', async () => {
  await withServer(async (n) => {
    assert.is((await putContainer(n, '/sda1/5/AUTH_a/%00versions%00c', 1)).status, 201);
    assert.is((await putObject(n, '/sda1/5/AUTH_a/%00versions%00c/%00o%00v1', 2)).status, 201);
    const mixed = await putObject(n, '/sda1/5/AUTH_a/%00versions%00c/o', 2);
    assert.is(mixed.status, 400);
    assert.is(mixed.body.toString(), 'Invalid user-namespace object in reserved-namespace container');
    await putContainer(n, '/sda1/5/AUTH_a/c', 1);
    const other = await putObject(n, '/sda1/5/AUTH_a/c/%00o', 2);
    assert.is(other.status, 400);
    assert.is(other.body.toString(), 'Invalid reserved-namespace object in user-namespace container');
    assert.is((await putObject(n, '/sda1/5/AUTH_a/c/a', 2)).status, 201);
    assert.is((await putObject(n, '/sda1/5/AUTH_a/c/b', 2)).status, 201);
    // Replicated rows may carry reserved names too (an UPDATE is how object servers batch).
    const update = await httpRequest(n.port, 'POST', '/sda1/5/AUTH_a/%00versions%00c', { 'X-Backend-Verb': 'UPDATE', 'X-Timestamp': T(3), 'Content-Type': 'application/json' }, JSON.stringify([{ name: '\u0000o\u0000v2', created_at: T(3), size: 1, content_type: 't', etag: 'e', deleted: 0, storage_policy_index: 0 }]));
    assert.is(update.status, 202);
    assert.is((await n.req('GET', '/sda1/5/AUTH_a/%00versions%00c?format=json')).body.toString(), '[]', 'hidden without the header');
    const listed = await n.req('GET', '/sda1/5/AUTH_a/%00versions%00c?format=json', { 'X-Backend-Allow-Reserved-Names': 'true' });
    assert.equal(JSON.parse(listed.body.toString()).map((r: { name: string }) => r.name), ['\u0000o\u0000v1', '\u0000o\u0000v2']);
    assert.is((await n.req('HEAD', '/sda1/5/AUTH_a/%00versions%00c')).headers['x-container-object-count'], '2');
    assert.is((await n.req('GET', '/sda1/5/AUTH_a/c')).body.toString(), 'a\nb\n');
    assert.is((await n.req('GET', '/sda1/5/AUTH_a/c?reverse=on&marker=b')).body.toString(), 'a\n');
  });
});

test.run();
