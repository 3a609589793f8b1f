import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';
import { IDENTITY_ACCOUNT_USERS, startIdentity, type TestIdentity } from '../helpers/identity.ts';
import { IMAGE_ACCOUNT_USERS, startImage, type TestImage } from '../helpers/image.ts';

/**
 * The image service (Glance v2) over a real in-process cluster and identity service, driven as
 * openstackclient and glanceclient drive Glance (api-traces.md): create, upload (sized and
 * chunked), download (whole and ranged), list with filters and paging, JSON-patch, members,
 * visibility, protection, deactivation, glance-direct import, and Glance's refusals.
 */
let cluster: TestCluster;
let id: TestIdentity;
let img: TestImage;
let admin: string;
let demo: string;
let demoProject: string;
const MiB = 1_048_576;
test.before(async () => {
  cluster = await startCluster({ users: { ...IDENTITY_ACCOUNT_USERS, ...IMAGE_ACCOUNT_USERS } });
  id = await startIdentity({ cluster });
  // Images of known size under 2 MiB are one object, larger ones 1 MiB segments.
  img = await startImage({ cluster, identity: id, limits: { segmentSize: MiB, largeObjectSize: 2 * MiB, imageSizeCap: 8 * MiB } });
  admin = await id.token();
  demo = await id.token({ user: 'demo' });
  demoProject = img.tokens.context({ 'x-auth-token': demo })?.projectId as string;
});
test.after(async () => {
  await img.close();
  await id.close();
  await cluster.close();
});

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer): string => createHash('sha512').update(b).digest('hex');

async function create(body: Record<string, unknown>, token = admin): Promise<string> {
  const res = await img.request('POST', '/v2/images', { token, body });
  assert.is(res.status, 201, res.body.toString());
  return res.json.id as string;
}

async function segments(imageId: string): Promise<string[]> {
  const rows = await img.client.listContainer('image-data_segments', { prefix: `${imageId}/`, newest: true });
  return (rows ?? []).map((r) => r.name);
}

test('create: 201 queued, shared by default, Location and the import methods', async () => {
  const res = await img.request('POST', '/v2/images', { token: admin, body: { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', os_distro: 'cirros' } });
  assert.is(res.status, 201);
  assert.is(res.json.status, 'queued');
  assert.is(res.json.visibility, 'shared');
  assert.is(res.json.size, null);
  assert.is(res.json.checksum, null);
  assert.is(res.json.os_distro, 'cirros');
  assert.is(res.json.self, `/v2/images/${res.json.id}`);
  assert.is(res.json.file, `/v2/images/${res.json.id}/file`);
  assert.is(res.json.schema, '/v2/schemas/image');
  assert.is(res.headers['location'], `${img.url}/v2/images/${res.json.id}`);
  assert.is(res.headers['openstack-image-import-methods'], 'glance-direct,web-download');
  assert.ok(res.headers['x-openstack-request-id']?.startsWith('req-'));
});

test('upload with Content-Length, then download: same bytes, MD5 and SHA-512, Content-MD5; a range is 206', async () => {
  const imageId = await create({ name: 'sized', disk_format: 'raw', container_format: 'bare' });
  const data = randomBytes(2 * MiB + 12345);
  const put = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.is(put.status, 204, put.body.toString());
  const shown = await img.request('GET', `/v2/images/${imageId}`, { token: admin });
  assert.is(shown.json.status, 'active');
  assert.is(shown.json.size, data.length);
  assert.is(shown.json.checksum, md5(data));
  assert.is(shown.json.os_hash_algo, 'sha512');
  assert.is(shown.json.os_hash_value, sha512(data));
  const got = await img.request('GET', `/v2/images/${imageId}/file`, { token: admin });
  assert.is(got.status, 200);
  assert.is(got.headers['content-md5'], md5(data));
  assert.is(got.headers['content-type'], 'application/octet-stream');
  assert.ok(got.body.equals(data));
  const part = await img.request('GET', `/v2/images/${imageId}/file`, { token: admin, headers: { Range: `bytes=${MiB - 10}-${MiB + 9}` } });
  assert.is(part.status, 206);
  assert.is(part.headers['content-range'], `bytes ${MiB - 10}-${MiB + 9}/${data.length}`);
  assert.ok(part.body.equals(data.subarray(MiB - 10, MiB + 10)));
  assert.is((await segments(imageId)).length, 3, 'three 1 MiB segments');
});

/** The image's object as stored: 404, or 200 and whether it is a manifest, and its ETag. */
async function stored(imageId: string): Promise<{ status: number; manifest: boolean; etag: string }> {
  const res = await img.client.request({ method: 'HEAD', container: 'image-data', object: imageId });
  await res.body.dump();
  return { status: res.status, manifest: res.headers['x-static-large-object'] !== undefined, etag: (res.headers['etag'] ?? '').replace(/"/g, '') };
}

test('an image of known size under large_object_size is one object: its checksum is the MD5 the cluster stored, no segments', async () => {
  const imageId = await create({ name: 'small', disk_format: 'raw', container_format: 'bare' });
  const data = randomBytes(MiB + 333);
  const put = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.is(put.status, 204, put.body.toString());
  const shown = await img.request('GET', `/v2/images/${imageId}`, { token: admin });
  assert.is(shown.json.status, 'active');
  assert.is(shown.json.size, data.length);
  assert.is(shown.json.checksum, md5(data));
  assert.is(shown.json.os_hash_value, sha512(data));
  assert.equal(await stored(imageId), { status: 200, manifest: false, etag: md5(data) });
  assert.equal(await segments(imageId), []);
  const got = await img.request('GET', `/v2/images/${imageId}/file`, { token: admin });
  assert.is(got.status, 200);
  assert.is(got.headers['content-md5'], md5(data));
  assert.ok(got.body.equals(data));
  const part = await img.request('GET', `/v2/images/${imageId}/file`, { token: admin, headers: { Range: 'bytes=-100' } });
  assert.is(part.status, 206);
  assert.ok(part.body.equals(data.subarray(data.length - 100)));
});

/** Sends `PUT .../file` by hand: `parts` of the body with `pauseMs` between them, then ends or cuts the connection. */
async function rawUpload(imageId: string, length: number, parts: readonly Buffer[], pauseMs: number, cut: boolean): Promise<string> {
  const socket = connect(img.port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (c: Buffer) => {
    answer += c.toString();
  });
  const closed = once(socket, 'close');
  socket.write(`PUT /v2/images/${imageId}/file HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${admin}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`);
  for (const part of parts) {
    socket.write(part);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  if (cut) socket.destroy();
  await closed;
  return answer;
}

test('an upload whose client pauses mid-way (its partial 1 MiB piece goes on meanwhile) stores every byte', async () => {
  const imageId = await create({ name: 'paused', disk_format: 'raw', container_format: 'bare' });
  const data = randomBytes(MiB + 100_000);
  const answer = await rawUpload(imageId, data.length, [data.subarray(0, 300_000), data.subarray(300_000, MiB + 50_000), data.subarray(MiB + 50_000)], 150, false);
  assert.match(answer, /^HTTP\/1.1 204/);
  const shown = await img.request('GET', `/v2/images/${imageId}`, { token: admin });
  assert.is(shown.json.status, 'active');
  assert.is(shown.json.checksum, md5(data));
  assert.is(shown.json.os_hash_value, sha512(data));
  assert.ok((await img.request('GET', `/v2/images/${imageId}/file`, { token: admin })).body.equals(data));
});

test('an upload whose client goes away mid-body leaves the image queued and nothing stored', async () => {
  const imageId = await create({ name: 'cut', disk_format: 'raw', container_format: 'bare' });
  const data = randomBytes(MiB + 500_000);
  await rawUpload(imageId, data.length + 1000, [data.subarray(0, MiB + 10), data.subarray(MiB + 10)], 50, true);
  // The service notices the cut and puts the image back. Up to 30 s: with four of these test
  // files at once on two cores, the upload's change mark (a container POST before it reads
  // the body) once took ~10 s, and the image was queued again 0.5 s after that (traced).
  for (let i = 0; i < 750 && (await img.request('GET', `/v2/images/${imageId}`, { token: admin })).json.status !== 'queued'; i++) await new Promise((resolve) => setTimeout(resolve, 40));
  assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: admin })).json.status, 'queued');
  assert.is((await stored(imageId)).status, 404);
  assert.equal(await segments(imageId), []);
});

test('regression: a whole download (read segment by segment) refuses a segment that is not the one the manifest names', async () => {
  const imageId = await create({ name: 'tampered', disk_format: 'raw', container_format: 'bare' });
  const data = randomBytes(2 * MiB);
  assert.is((await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: data, headers: { 'Content-Type': 'application/octet-stream' } })).status, 204);
  const [first] = await segments(imageId);
  const put = await img.client.request({ method: 'PUT', container: 'image-data_segments', object: first as string, body: randomBytes(MiB) });
  await put.body.dump();
  assert.is(put.status, 201);
  const got = await img.request('GET', `/v2/images/${imageId}/file`, { token: admin });
  assert.is(got.status, 503);
  assert.not.ok(got.body.includes(data.subarray(0, 64)));
});

test('a chunked upload (glance image-create) of several segments round-trips; a qcow2 gets its virtual size', async () => {
  const imageId = await create({ name: 'chunked', disk_format: 'qcow2', container_format: 'bare' });
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x514649fb, 0);
  header.writeUInt32BE(3, 4);
  header.writeBigUInt64BE(10n * 1024n ** 3n, 24);
  const data = Buffer.concat([header, randomBytes(3 * MiB)]);
  const put = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: data, headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } });
  assert.is(put.status, 204, put.body.toString());
  const shown = await img.request('GET', `/v2/images/${imageId}`, { token: admin });
  assert.is(shown.json.size, data.length);
  assert.is(shown.json.virtual_size, 10 * 1024 ** 3);
  const got = await img.request('GET', `/v2/images/${imageId}/file`, { token: admin });
  assert.ok(got.body.equals(data));
});

test('a second upload to an active image is 409 and changes nothing', async () => {
  const imageId = await create({ name: 'twice', disk_format: 'raw', container_format: 'bare' });
  const first = randomBytes(1000);
  assert.is((await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: first, headers: { 'Content-Type': 'application/octet-stream' } })).status, 204);
  const again = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: randomBytes(1000), headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json' } });
  assert.is(again.status, 409);
  assert.match(again.json.message, 'Image status transition from active to saving is not allowed');
  assert.is(again.json.code, '409 Conflict');
  assert.ok((await img.request('GET', `/v2/images/${imageId}/file`, { token: admin })).body.equals(first));
});

for (const [kind, size] of [
  ['one object', MiB + 5],
  ['segments', 3 * MiB],
] as const) {
  test(`an upload (${kind}) whose Content-MD5 does not match is 400; the image is queued again and nothing is left`, async () => {
    const imageId = await create({ name: 'bad-md5', disk_format: 'raw', container_format: 'bare' });
    const data = randomBytes(size);
    const res = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: data, headers: { 'Content-Type': 'application/octet-stream', 'Content-MD5': md5(Buffer.from('other')), Accept: 'application/json' } });
    assert.is(res.status, 400);
    assert.match(res.json.message, 'Checksum verification failed');
    assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: admin })).json.status, 'queued');
    assert.equal(await segments(imageId), []);
    assert.is((await stored(imageId)).status, 404);
    const ok = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: data, headers: { 'Content-Type': 'application/octet-stream', 'Content-MD5': Buffer.from(md5(data), 'hex').toString('base64') } });
    assert.is(ok.status, 204, 'a retry with the right hash (base64, as Content-MD5 is) succeeds');
    assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: admin })).json.checksum, md5(data));
  });
}

test('a too-large image is 413 (by Content-Length, and chunked once it passes the cap), left queued with nothing stored', async () => {
  const imageId = await create({ name: 'huge', disk_format: 'raw', container_format: 'bare' });
  const sized = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: Buffer.alloc(9 * MiB), headers: { 'Content-Type': 'application/octet-stream' } });
  assert.is(sized.status, 413);
  const chunked = await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: Buffer.alloc(9 * MiB), headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } });
  assert.is(chunked.status, 413);
  assert.match(chunked.body.toString(), 'The incoming image is too large');
  assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: admin })).json.status, 'queued');
  assert.equal(await segments(imageId), []);
});

test('bad input on create: a wrong disk_format, a read-only or reserved attribute; nothing is created', async () => {
  const before = (await img.request('GET', '/v2/images?limit=1000', { token: admin })).json.images.length;
  const wrong = await img.request('POST', '/v2/images', { token: admin, body: { name: 'x', disk_format: 'floppy' }, headers: { Accept: 'application/json' } });
  assert.is(wrong.status, 400);
  assert.is(wrong.json.title, 'Bad Request');
  assert.match(wrong.json.message, "Provided object does not match schema 'image': 'floppy' is not one of [None, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop']");
  const html = await img.request('POST', '/v2/images', { token: admin, body: { name: 'x', status: 'active' } });
  assert.is(html.status, 403);
  assert.is(html.headers['content-type'], 'text/html; charset=UTF-8');
  assert.match(html.body.toString(), "<h1>403 Forbidden</h1>\n  Attribute 'status' is read-only.");
  assert.is((await img.request('POST', '/v2/images', { token: admin, body: { name: 'x', deleted: 'yes' } })).status, 403);
  assert.is((await img.request('POST', '/v2/images', { token: admin, body: { name: 'x', os_glance_x: 'yes' } })).status, 403);
  assert.is((await img.request('GET', '/v2/images?limit=1000', { token: admin })).json.images.length, before);
});

test('JSON-patch: properties, protected, tags; read-only is 403, a missing property 409, the wrong media type 415', async () => {
  const imageId = await create({ name: 'patchy', disk_format: 'raw', container_format: 'bare' });
  const patch = (ops: unknown, headers: Record<string, string> = {}) => img.request('PATCH', `/v2/images/${imageId}`, { token: admin, body: ops, headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch', ...headers } });
  const set = await patch([
    { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
    { op: 'add', path: '/tags', value: ['t1', 't2', 't1'] },
    { op: 'replace', path: '/name', value: 'renamed' },
    { op: 'replace', path: '/min_ram', value: 64 },
  ]);
  assert.is(set.status, 200, set.body.toString());
  assert.is(set.json.hw_disk_bus, 'virtio');
  assert.equal(set.json.tags, ['t1', 't2']);
  assert.is(set.json.name, 'renamed');
  assert.is(set.json.min_ram, 64);
  assert.is((await patch([{ op: 'remove', path: '/hw_disk_bus' }])).json.hw_disk_bus, undefined);
  assert.is((await patch([{ op: 'replace', path: '/size', value: 5 }])).status, 403);
  assert.is((await patch([{ op: 'remove', path: '/nothing' }])).status, 409);
  assert.is((await patch([{ op: 'move', path: '/name' }])).status, 400);
  assert.is((await patch([{ op: 'replace', path: '/name', value: 'x' }], { 'Content-Type': 'application/json' })).status, 415);
  assert.is((await patch([{ op: 'replace', path: '/protected', value: true }])).json.protected, true);
  const del = await img.request('DELETE', `/v2/images/${imageId}`, { token: admin });
  assert.is(del.status, 403);
  assert.match(del.body.toString(), `Image ${imageId} is protected and cannot be deleted.`);
  await patch([{ op: 'replace', path: '/protected', value: false }]);
  assert.is((await img.request('PUT', `/v2/images/${imageId}/tags/gl-tag`, { token: admin })).status, 204);
  assert.equal((await img.request('GET', `/v2/images/${imageId}`, { token: admin })).json.tags, ['t1', 't2', 'gl-tag']);
  assert.is((await img.request('DELETE', `/v2/images/${imageId}/tags/gl-tag`, { token: admin })).status, 204);
});

test('list: filters, sorting, limit and marker with next links; an unknown operator is 400', async () => {
  const ids: string[] = [];
  for (const n of [1, 2, 3]) ids.push(await create({ name: `listed-${n}`, disk_format: n === 2 ? 'qcow2' : 'raw', container_format: 'bare', tags: n === 3 ? ['web'] : [], flavor: `f${n}` }));
  const names = async (q: string): Promise<string[]> => {
    const res = await img.request('GET', `/v2/images?${q}`, { token: admin });
    assert.is(res.status, 200, res.body.toString());
    return res.json.images.map((i: { name: string }) => i.name);
  };
  assert.equal(await names('name=listed-2'), ['listed-2']);
  assert.equal(await names('tag=web'), ['listed-3']);
  assert.equal(await names('flavor=f1'), ['listed-1']);
  assert.equal(await names('name=in:listed-1,listed-3&sort=name:asc'), ['listed-1', 'listed-3']);
  assert.equal(await names('disk_format=qcow2&name=listed-2'), ['listed-2']);
  assert.equal((await names('sort_key=name&sort_dir=asc')).filter((n) => n.startsWith('listed-')), ['listed-1', 'listed-2', 'listed-3']);
  const first = await img.request('GET', '/v2/images?sort=name:asc&limit=2', { token: admin });
  assert.is(first.json.images.length, 2);
  assert.is(first.json.first, '/v2/images?sort=name%3Aasc&limit=2');
  assert.match(first.json.next, /^\/v2\/images\?sort=name%3Aasc&limit=2&marker=/);
  const second = await img.request('GET', first.json.next, { token: admin });
  assert.is(second.status, 200);
  assert.not.equal(second.json.images[0].id, first.json.images[1].id);
  assert.equal(await names('created_at=gt:2000-01-01T00:00:00Z&name=listed-1'), ['listed-1']);
  assert.equal(await names('created_at=lt:2000-01-01T00:00:00Z'), []);
  const bad = await img.request('GET', '/v2/images?created_at=foo:2000-01-01T00:00:00Z', { token: admin });
  assert.is(bad.status, 400);
  assert.match(bad.body.toString(), 'Unable to filter on a unknown operator.');
  assert.is((await img.request('GET', '/v2/images?sort_key=owner', { token: admin })).status, 400);
  assert.is((await img.request('GET', '/v2/images?limit=x', { token: admin })).status, 400);
});

test("another project's private image: invisible (404) and unlisted; sharing: pending, then accepted", async () => {
  const imageId = await create({ name: 'private-one', disk_format: 'raw', container_format: 'bare', visibility: 'private' });
  assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: demo })).status, 404);
  assert.is((await img.request('PATCH', `/v2/images/${imageId}`, { token: demo, body: [{ op: 'replace', path: '/name', value: 'mine' }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } })).status, 404);
  assert.is((await img.request('DELETE', `/v2/images/${imageId}`, { token: demo })).status, 404);
  const notShared = await img.request('POST', `/v2/images/${imageId}/members`, { token: admin, body: { member: demoProject } });
  assert.is(notShared.status, 403);
  await img.request('PATCH', `/v2/images/${imageId}`, { token: admin, body: [{ op: 'add', path: '/visibility', value: 'shared' }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
  const added = await img.request('POST', `/v2/images/${imageId}/members`, { token: admin, body: { member: demoProject } });
  assert.is(added.status, 200);
  assert.is(added.json.status, 'pending');
  assert.is(added.json.schema, '/v2/schemas/member');
  const demoList = async () => (await img.request('GET', '/v2/images', { token: demo })).json.images.map((i: { id: string }) => i.id);
  assert.not.ok((await demoList()).includes(imageId), 'pending members do not list it');
  assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: demo })).status, 200, 'but may show it');
  const accepted = await img.request('PUT', `/v2/images/${imageId}/members/${demoProject}`, { token: demo, body: { status: 'accepted' } });
  assert.is(accepted.json.status, 'accepted');
  assert.ok((await demoList()).includes(imageId));
  const change = await img.request('PATCH', `/v2/images/${imageId}`, { token: demo, body: [{ op: 'add', path: '/foo', value: 'bar' }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
  assert.is(change.status, 403, 'a member may not modify it');
  assert.is((await img.request('GET', `/v2/images/${imageId}/members`, { token: admin })).json.members.length, 1);
  assert.is((await img.request('DELETE', `/v2/images/${imageId}/members/${demoProject}`, { token: admin })).status, 204);
  assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: demo })).status, 404);
});

test('regression: two image processes over one account list each other\'s writes at once (a same-size rename included)', async () => {
  const other = await startImage({ cluster, identity: id, limits: { segmentSize: MiB } });
  try {
    const names = async (svc: TestImage): Promise<string[]> => {
      const res = await svc.request('GET', '/v2/images?limit=1000&name=in:twin-aaa,twin-bbb,twin-ccc', { token: admin });
      assert.is(res.status, 200);
      return (res.json.images as { name: string }[]).map((i) => i.name).sort();
    };
    assert.equal(await names(img), []);
    assert.equal(await names(other), []);
    const made = await other.request('POST', '/v2/images', { token: admin, body: { name: 'twin-aaa', disk_format: 'raw', container_format: 'bare' } });
    assert.is(made.status, 201);
    assert.equal(await names(img), ['twin-aaa']);
    assert.equal(await names(other), ['twin-aaa']);
    const patched = await img.request('PATCH', `/v2/images/${made.json.id}`, { token: admin, body: [{ op: 'replace', path: '/name', value: 'twin-bbb' }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
    assert.is(patched.status, 200);
    assert.equal(await names(other), ['twin-bbb']);
    const gone = await img.request('DELETE', `/v2/images/${made.json.id}`, { token: admin });
    assert.is(gone.status, 204);
    assert.equal(await names(other), []);
  } finally {
    await other.close();
  }
});

test('visibility policy: only admins publicize; a member of a project may make its image community', async () => {
  const own = await create({ name: 'demo-img', disk_format: 'raw', container_format: 'bare' }, demo);
  const patch = (token: string, value: string) => img.request('PATCH', `/v2/images/${own}`, { token, body: [{ op: 'replace', path: '/visibility', value }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
  const pub = await patch(demo, 'public');
  assert.is(pub.status, 403);
  assert.match(pub.body.toString(), 'publicize_image');
  assert.is((await patch(demo, 'community')).status, 200);
  assert.is((await patch(admin, 'public')).json.visibility, 'public');
  assert.is((await img.request('POST', '/v2/images', { token: demo, body: { name: 'p', visibility: 'public' } })).status, 403);
});

test('deactivate: the owner may, non-admins cannot download it, reactivate brings it back', async () => {
  const imageId = await create({ name: 'deact', disk_format: 'raw', container_format: 'bare', visibility: 'public' });
  assert.is((await img.request('POST', `/v2/images/${imageId}/actions/deactivate`, { token: admin })).status, 403, 'only an active image');
  await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: 'abc', headers: { 'Content-Type': 'application/octet-stream' } });
  assert.is((await img.request('POST', `/v2/images/${imageId}/actions/deactivate`, { token: admin })).status, 204);
  assert.is((await img.request('GET', `/v2/images/${imageId}/file`, { token: demo })).status, 403);
  assert.is((await img.request('GET', `/v2/images/${imageId}/file`, { token: admin })).body.toString(), 'abc');
  assert.is((await img.request('POST', `/v2/images/${imageId}/actions/reactivate`, { token: admin })).status, 204);
  assert.is((await img.request('GET', `/v2/images/${imageId}/file`, { token: demo })).body.toString(), 'abc');
});

test('glance-direct: stage (uploading), import (202), then active with the staged bytes', async () => {
  const info = await img.request('GET', '/v2/info/import', { token: admin });
  assert.equal(info.json['import-methods'].value, ['glance-direct', 'web-download']);
  const imageId = await create({ name: 'imported', disk_format: 'raw', container_format: 'bare' });
  const data = randomBytes(MiB + 1);
  assert.is((await img.request('PUT', `/v2/images/${imageId}/stage`, { token: admin, body: data, headers: { 'Content-Type': 'application/octet-stream' } })).status, 204);
  assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: admin })).json.status, 'uploading');
  const imported = await img.request('POST', `/v2/images/${imageId}/import`, { token: admin, body: { method: { name: 'glance-direct' } } });
  assert.is(imported.status, 202, imported.body.toString());
  const shown = await img.request('GET', `/v2/images/${imageId}`, { token: admin });
  assert.is(shown.json.status, 'active');
  assert.is(shown.json.os_hash_value, sha512(data));
  assert.ok((await img.request('GET', `/v2/images/${imageId}/file`, { token: admin })).body.equals(data));
});

for (const [kind, size, count] of [
  ['one object', MiB + 7, 0],
  ['segments', 2 * MiB + 7, 3],
] as const) {
  test(`delete removes the record and the bytes (${kind})`, async () => {
    const imageId = await create({ name: 'doomed', disk_format: 'raw', container_format: 'bare' });
    await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: randomBytes(size), headers: { 'Content-Type': 'application/octet-stream' } });
    assert.is((await segments(imageId)).length, count);
    assert.equal((await stored(imageId)).manifest, count > 0);
    assert.is((await img.request('DELETE', `/v2/images/${imageId}`, { token: admin })).status, 204);
    assert.is((await img.request('GET', `/v2/images/${imageId}`, { token: admin })).status, 404);
    assert.equal(await segments(imageId), []);
    assert.is((await stored(imageId)).status, 404);
  });
}

test('regression: deleting an empty image removes its object (stored plainly, which the manifest delete refused)', async () => {
  const imageId = await create({ name: 'empty', disk_format: 'raw', container_format: 'bare' });
  assert.is((await img.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: Buffer.alloc(0), headers: { 'Content-Type': 'application/octet-stream' } })).status, 204);
  assert.equal(await stored(imageId), { status: 200, manifest: false, etag: md5(Buffer.alloc(0)) });
  assert.is((await img.request('DELETE', `/v2/images/${imageId}`, { token: admin })).status, 204);
  assert.is((await stored(imageId)).status, 404);
});

test('no token or a bad one is 401; version discovery needs none', async () => {
  assert.is((await img.request('GET', '/v2/images')).status, 401);
  assert.is((await img.request('GET', '/v2/images', { token: 'gAAAAAbad' })).status, 401);
  const root = await httpRequest(img.port, 'GET', '/');
  assert.is(root.status, 300);
  assert.is(JSON.parse(root.body.toString()).versions[0].id, 'v2.16');
  assert.is((await img.request('GET', '/v2/schemas/image', { token: admin })).json.name, 'image');
});

test.run();
