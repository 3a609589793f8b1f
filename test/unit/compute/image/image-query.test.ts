import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RequestContext } from '../../../../common/token/request-context.ts';
import { GlanceError } from '../../../../compute/image/errors.ts';
import type { ImageRecord } from '../../../../compute/image/image-record.ts';
import { pageOf, parseImageQuery } from '../../../../compute/image/image-query.ts';

const ctx = (projectId: string, roles = ['member']): RequestContext => ({ userId: 'u', userDomainId: 'default', projectId, projectDomainId: 'default', systemScope: false, roles, isAdmin: roles.includes('admin'), authToken: 't', expiresAt: 0 });

function image(id: string, over: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id, name: id, status: 'active', visibility: 'private', protected: false, os_hidden: false, owner: 'p1', disk_format: 'raw', container_format: 'bare',
    size: 10, virtual_size: null, checksum: null, os_hash_algo: null, os_hash_value: null, min_ram: 0, min_disk: 0,
    created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', tags: [], properties: {}, members: {}, ...over,
  };
}

const ids = (q: string, images: ImageRecord[], who = ctx('p1')): string[] => pageOf(who, images, parseImageQuery(new URLSearchParams(q))).images.map((i) => i.id);

function refused(q: string, message: string): void {
  try {
    parseImageQuery(new URLSearchParams(q));
    assert.unreachable(q);
  } catch (err) {
    assert.instance(err, GlanceError);
    assert.is((err as GlanceError).status, 400);
    assert.is((err as GlanceError).message, message);
  }
}

test('default order is created_at desc then id; sort keys and directions as Glance parses them', () => {
  const all = [image('a', { created_at: '2026-01-01T00:00:01Z', size: 3 }), image('b', { created_at: '2026-01-01T00:00:03Z', size: 1 }), image('c', { created_at: '2026-01-01T00:00:02Z', size: 2 })];
  assert.equal(ids('', all), ['b', 'c', 'a']);
  assert.equal(ids('sort=size:asc', all), ['b', 'c', 'a']);
  assert.equal(ids('sort_key=name&sort_dir=asc', all), ['a', 'b', 'c']);
  assert.equal(ids('sort=name', all), ['c', 'b', 'a'], 'no direction: desc');
});

test('limit and marker page without repeats; a full page names its next marker', () => {
  const all = ['a', 'b', 'c', 'd', 'e'].map((id) => image(id));
  const first = pageOf(ctx('p1'), all, parseImageQuery(new URLSearchParams('sort=name:asc&limit=2')));
  assert.equal(first.images.map((i) => i.id), ['a', 'b']);
  assert.is(first.nextMarker, 'b');
  assert.equal(ids('sort=name:asc&limit=2&marker=b', all), ['c', 'd']);
  assert.equal(ids('sort=name:asc&limit=2&marker=e', all), []);
});

test('filters: in:, ranges, times with operators, tags (all), custom properties, os_hidden', () => {
  const all = [
    image('a', { size: 5, tags: ['x', 'y'], properties: { os_distro: 'cirros' }, created_at: '2026-03-01T00:00:00Z' }),
    image('b', { size: 50, tags: ['x'], os_hidden: true }),
    image('c', { size: 500, disk_format: 'qcow2' }),
  ];
  assert.equal(ids('name=in:a,c&sort=name:asc', all), ['a', 'c']);
  assert.equal(ids('size_min=10&size_max=1000', all), ['c']);
  assert.equal(ids('created_at=gte:2026-02-01T00:00:00Z', all), ['a']);
  assert.equal(ids('tag=x&tag=y', all), ['a']);
  assert.equal(ids('os_distro=cirros', all), ['a']);
  assert.equal(ids('os_hidden=true', all), ['b']);
  assert.equal(ids('disk_format=qcow2', all), ['c']);
});

test("visibility: others' private images never; shared ones for accepted members; community only when asked", () => {
  const all = [
    image('mine', { owner: 'p2' }),
    image('private', {}),
    image('shared', { visibility: 'shared', members: { p2: { status: 'accepted', created_at: '', updated_at: '' } } }),
    image('pending', { visibility: 'shared', members: { p2: { status: 'pending', created_at: '', updated_at: '' } } }),
    image('community', { visibility: 'community' }),
    image('public', { visibility: 'public' }),
  ];
  const p2 = ctx('p2');
  assert.equal(ids('sort=name:asc', all, p2), ['mine', 'public', 'shared']);
  assert.equal(ids('sort=name:asc&member_status=pending', all, p2), ['mine', 'pending', 'public']);
  assert.equal(ids('visibility=community', all, p2), ['community']);
  assert.equal(ids('sort=name:asc&visibility=all', all, ctx('p9', ['admin'])).length, 6);
});

test("Glance's refusals, word for word", () => {
  refused('limit=x', 'limit param must be an integer');
  refused('limit=-1', 'limit param must be positive');
  refused('sort_key=owner', 'Invalid sort key: owner. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at.');
  refused('sort_dir=up', 'Invalid sort direction: up');
  refused('sort=name&sort_key=name', 'Old and new sorting syntax cannot be combined');
  refused('visibility=secret', 'Invalid visibility value: secret');
  refused('member_status=maybe', 'Invalid status: maybe');
  refused('os_hidden=maybe', "Invalid value 'maybe' for 'os_hidden' filter. Valid values are 'true' or 'false'.");
  refused('size_min=big', 'Unable to filter on a range with a non-numeric value.');
  refused('created_at=gt:yesterday', 'Bad "created_at" query filter format. Use ISO 8601 DateTime notation.');
  refused('created_at=foo:2026-01-01T00:00:00Z', 'Unable to filter on a unknown operator.');
  refused('name=like:x', "Unable to filter by unknown operator 'like'.");
  refused('changes-since=2026-01-01', 'The "changes-since" filter is no longer available on v2.');
});

test.run();
