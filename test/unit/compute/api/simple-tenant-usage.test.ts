import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeAgent, startCompute } from '../../../helpers/compute.ts';
import { OffsetClock } from '../../../helpers/offset-clock.ts';

/** `openstack usage list` / `usage show`: Nova's os-simple-tenant-usage over live and deleted servers. */
const HOUR = 3_600_000;
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${what}: ${actual}, expected about ${expected}`);
const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19);

test('hours per server in the period, deleted servers included until they ended; totals per project; list for admins, show for the project', async () => {
  const clock = new OffsetClock();
  const c = await startCompute({ clock });
  const agent = await makeAgent(c, 'node1');
  try {
    let admin = await c.identity.token();
    let demo = await c.identity.token({ user: 'demo' });
    // Tokens last an hour: new ones after the clock moves on.
    const renew = async () => {
      admin = await c.identity.token();
      demo = await c.identity.token({ user: 'demo' });
    };
    await agent.agent.register();
    await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.small', id: '2', ram: 2048, vcpus: 2, disk: 10, 'OS-FLV-EXT-DATA:ephemeral': 5 } } });
    const imageId = c.images.add({}).id;
    const boot = async (name: string, token: string) => (await c.request('POST', '/v2.1/servers', { token, version: '2.37', body: { server: { name, imageRef: imageId, flavorRef: '2', networks: 'none' } } })).json.server.id as string;
    const t0 = clock.now();
    const kept = await boot('kept', demo);
    const gone = await boot('gone', demo);
    // A second later, so the pages below find it last (creation times are kept to the second).
    clock.advance(1000);
    const admins = await boot('admins', admin);
    await agent.agent.drain();
    const project = (await c.request('GET', `/v2.1/servers/${kept}`, { token: demo })).json.server.tenant_id as string;
    clock.advance(2 * HOUR);
    await renew();
    assert.is((await c.request('DELETE', `/v2.1/servers/${gone}`, { token: demo })).status, 204);
    await agent.agent.drain();
    clock.advance(HOUR);
    await renew();
    const start = stamp(t0 - HOUR);
    const end = stamp(clock.now() + 5 * HOUR);

    const denied = await c.request('GET', `/v2.1/os-simple-tenant-usage?start=${start}&end=${end}`, { token: demo });
    assert.equal([denied.status, denied.json.forbidden.message], [403, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed."]);
    const list = (await c.request('GET', `/v2.1/os-simple-tenant-usage?start=${start}&end=${end}`, { token: admin })).json.tenant_usages;
    assert.is(list.length, 2);
    const mine = list.find((u: { tenant_id: string }) => u.tenant_id === project);
    assert.is(mine.server_usages, undefined, 'not detailed unless asked');
    near(mine.total_hours, 5, 'total hours: 3 of the kept server and 2 of the deleted one');
    near(mine.total_vcpus_usage, 10, 'vCPU hours');
    near(mine.total_memory_mb_usage, 10240, 'RAM MB-hours');
    near(mine.total_local_gb_usage, 75, 'disk GB-hours (root and ephemeral)');
    assert.is(mine.start, `${start}.000000`);
    assert.ok(mine.stop <= `${stamp(clock.now() + 1000)}.000000`, 'the end is now at the latest');

    const detailed = (await c.request('GET', `/v2.1/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1`, { token: admin })).json.tenant_usages.find((u: { tenant_id: string }) => u.tenant_id === project);
    const byName = Object.fromEntries(detailed.server_usages.map((u: { name: string }) => [u.name, u]));
    assert.equal(Object.keys(byName).sort(), ['gone', 'kept']);
    assert.equal([byName.gone.state, byName.kept.state, byName.kept.ended_at, byName.gone.flavor, byName.gone.vcpus, byName.gone.memory_mb, byName.gone.local_gb], ['terminated', 'active', null, 'm1.small', 2, 2048, 15]);
    assert.match(byName.gone.ended_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    near(byName.gone.hours, 2, 'the deleted server until it ended');
    near(byName.gone.uptime / 3600, 2, 'its uptime');

    // show: the project's own readers; another project's is 403.
    const show = (await c.request('GET', `/v2.1/os-simple-tenant-usage/${project}?start=${start}&end=${end}`, { token: demo })).json.tenant_usage;
    assert.equal(show.server_usages.map((u: { name: string }) => u.name).sort(), ['gone', 'kept']);
    const adminProject = list.find((u: { tenant_id: string }) => u.tenant_id !== project).tenant_id;
    assert.is((await c.request('GET', `/v2.1/os-simple-tenant-usage/${adminProject}`, { token: demo })).status, 403);
    const later = (await c.request('GET', `/v2.1/os-simple-tenant-usage/${project}?start=${stamp(clock.now() - HOUR / 2)}`, { token: demo })).json.tenant_usage;
    assert.equal(later.server_usages.map((u: { name: string }) => u.name), ['kept'], 'a server deleted before the period is not in it');
    near(later.total_hours, 0.5, 'the period ends now');
    assert.equal((await c.request('GET', `/v2.1/os-simple-tenant-usage/nobody?start=${start}`, { token: admin })).json, { tenant_usage: {} });

    // 2.40: pages over the servers, oldest first.
    const page1 = (await c.request('GET', `/v2.1/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1&limit=2`, { token: admin, version: '2.40' })).json;
    const ids1 = page1.tenant_usages.flatMap((u: { server_usages: { instance_id: string }[] }) => u.server_usages.map((x) => x.instance_id));
    assert.equal([...ids1].sort(), [kept, gone].sort(), 'the demo servers were made first (made in one second, they go by UUID)');
    const next = new URL(page1.tenant_usages_links[0].href);
    assert.is(next.searchParams.get('marker'), ids1[1]);
    const page2 = (await c.request('GET', `/v2.1/os-simple-tenant-usage${next.search}`, { token: admin, version: '2.40' })).json;
    assert.equal(page2.tenant_usages.flatMap((u: { server_usages: { instance_id: string }[] }) => u.server_usages.map((x) => x.instance_id)), [admins]);
    assert.is(page2.tenant_usages_links, undefined, 'the last page has no next link');
  } finally {
    await agent.remove();
    await c.close();
  }
});

test("the query's refusals: Nova's time formats, start before end, a marker not found, other keys from 2.75", async () => {
  const c = await startCompute();
  try {
    const admin = await c.identity.token();
    const get = async (query: string, version = '2.1') => {
      const r = await c.request('GET', `/v2.1/os-simple-tenant-usage?${query}`, { token: admin, version });
      return [r.status, r.json.badRequest?.message ?? r.json];
    };
    assert.equal(await get('start=2026-01-01'), [400, 'Invalid datetime string: Datetime is in invalid format']);
    assert.equal(await get('start=2026-01-01T00:00:00Z'), [400, 'Invalid datetime string: Datetime is in invalid format']);
    assert.equal(await get('start=2026-01-02T00:00:00&end=2026-01-01T00:00:00.5'), [400, 'Invalid start time. The start time cannot occur after the end time.']);
    assert.equal(await get('start=2026-01-01%2000:00:00.000001&end=2026-01-02T00:00:00'), [200, { tenant_usages: [] }]);
    assert.equal(await get('start=2026-01-01T00:00:00&foo=1'), [200, { tenant_usages: [] }], 'other keys are ignored before 2.75');
    assert.equal(await get('start=2026-01-01T00:00:00&foo=1', '2.75'), [400, "Additional properties are not allowed ('foo' was unexpected)"]);
    assert.equal(await get('marker=x', '2.40'), [400, 'Marker x could not be found.']);
  } finally {
    await c.close();
  }
});

test.run();
