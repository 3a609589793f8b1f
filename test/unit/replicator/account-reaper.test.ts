import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../common/config.ts';
import type { BackendRequest } from '../../../common/http/backend-client.ts';
import { backendPath } from '../../../common/http/backend-client.ts';
import { Timestamp } from '../../../common/timestamp.ts';
import { AccountReaper, containerShard } from '../../../replicator/account-reaper.ts';
import { accountReaperSchema } from '../../../replicator/db-daemon-config.ts';
import { type DbNode, type DbNodes, startDbNodes } from '../../helpers/db-nodes.ts';
import { type FakeBehaviour, fakeBackend, type RecordedRequest } from '../../helpers/fake-backend.ts';
import { httpRequest } from '../../helpers/http.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const T = (s: number): string => new Timestamp((1_700_000_000 + s) * 100_000).internal;
const defaults = defaultConfig({ r: accountReaperSchema }).r;
const CONTAINERS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

/** Object servers and container servers as the script says; listings give two objects per container. */
function storageScript(overrides: (node: string, request: BackendRequest) => FakeBehaviour | undefined = () => undefined) {
  return (node: string, request: BackendRequest): FakeBehaviour => {
    const special = overrides(node, request);
    if (special) return special;
    if (request.method === 'GET') {
      const first = !/marker=[^&]/.test(request.query ?? '');
      return first ? { status: 200, headers: { 'content-type': 'application/json', 'x-backend-storage-policy-index': '0' }, body: JSON.stringify([{ name: 'o1' }, { name: 'o2' }]) } : { status: 204 };
    }
    return { status: 204 };
  };
}

async function withDeletedAccount(script: ReturnType<typeof storageScript>, fn: (rig: DbNodes, requests: RecordedRequest[], clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const backend = fakeBackend(script);
  const rig = await startDbNodes({ clock, backend });
  try {
    const part = rig.rings.account.getPart('AUTH_a');
    for (const n of rig.primaries('account', 'AUTH_a')) {
      const node = rig.nodes[n - 1] as DbNode;
      const at = (...path: string[]): string => backendPath(node.device, part, 'AUTH_a', ...path);
      await httpRequest(node.ports.account, 'PUT', at(), { 'X-Timestamp': T(1) });
      for (const c of CONTAINERS) {
        await httpRequest(node.ports.account, 'PUT', at(c), { 'X-Put-Timestamp': T(2), 'X-Delete-Timestamp': new Timestamp(0).internal, 'X-Object-Count': '2', 'X-Bytes-Used': '20' });
      }
      assert.is((await httpRequest(node.ports.account, 'DELETE', at(), { 'X-Timestamp': T(10) })).status, 204);
    }
    clock.advance(60_000); // the deletion (at T(10)) is a minute old
    await fn(rig, backend.requests, clock);
  } finally {
    await rig.close();
  }
}

async function reap(rig: DbNodes, n: number, config: Partial<typeof defaults> = {}): Promise<Readonly<Record<string, number>>> {
  const daemon = new AccountReaper((rig.nodes[n - 1] as DbNode).ctx, { ...defaults, ...config });
  await daemon.runPass();
  return daemon.recon().lastPass;
}

test('the primaries of a deleted account share its containers; each object and container is deleted on every server', () =>
  withDeletedAccount(storageScript(), async (rig, requests) => {
    const accountNodes = rig.rings.account.getNodes('AUTH_a').nodes;
    let total = { containers: 0, objects: 0 };
    for (const [index, n] of rig.primaries('account', 'AUTH_a').entries()) {
      const before = requests.length;
      const counts = await reap(rig, n);
      const mine = CONTAINERS.filter((c) => containerShard(c, 3) === index);
      assert.is(counts['containers_deleted'] ?? 0, mine.length, `replica ${index} reaps its share`);
      const deleted = requests.slice(before).filter((r) => r.method === 'DELETE' && r.path.split('/').length === 5);
      assert.equal([...new Set(deleted.map((r) => r.path.split('/')[4]))].sort(), mine);
      total = { containers: total.containers + (counts['containers_deleted'] ?? 0), objects: total.objects + (counts['objects_deleted'] ?? 0) };
    }
    assert.equal(total, { containers: 6, objects: 12 });

    const { partition: cpart, nodes: cnodes } = rig.rings.container.getNodes('AUTH_a', 'c1');
    const objectDeletes = requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/AUTH_a/c1/o1'));
    assert.is(objectDeletes.length, 3, 'on every object server');
    assert.equal(objectDeletes.map((r) => r.headers['X-Container-Host']).sort(), cnodes.map((d) => `${d.ip}:${d.port}`).sort(), 'each names a container replica');
    for (const r of objectDeletes) {
      assert.is(r.headers['X-Container-Partition'], String(cpart));
      assert.ok(r.headers['X-Timestamp']);
      assert.is(r.headers['X-Backend-Storage-Policy-Index'], '0');
    }
    const containerDeletes = requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/AUTH_a/c1'));
    assert.is(containerDeletes.length, 3);
    assert.equal(containerDeletes.map((r) => r.headers['X-Account-Host']).sort(), accountNodes.map((d) => `${d.ip}:${d.port}`).sort());
    for (const r of containerDeletes) assert.is(r.headers['X-Account-Override-Deleted'], 'yes');
    const lastDelete = requests.findLastIndex((r) => r.path.endsWith('/AUTH_a/c1/o2'));
    assert.ok(requests.findIndex((r) => r.method === 'DELETE' && r.path.endsWith('/AUTH_a/c1')) > lastDelete, 'objects first');
  }));

test('delay_reaping leaves a recently deleted account alone; a handoff copy is never reaped', () =>
  withDeletedAccount(storageScript(), async (rig, requests, clock) => {
    const [first] = rig.primaries('account', 'AUTH_a') as [number];
    assert.equal(await reap(rig, first, { delay_reaping: 3600 }), {});
    assert.is(requests.length, 0);
    clock.advance(3601_000);
    assert.ok(((await reap(rig, first, { delay_reaping: 3600 }))['accounts'] ?? 0) === 1);

    // A copy of the account on a non-primary node.
    const handoff = rig.nodes.find((n) => !rig.primaries('account', 'AUTH_a').includes(n.n)) as DbNode;
    const part = rig.rings.account.getPart('AUTH_a');
    await httpRequest(handoff.ports.account, 'PUT', backendPath(handoff.device, part, 'AUTH_a'), { 'X-Timestamp': T(1) });
    await httpRequest(handoff.ports.account, 'PUT', backendPath(handoff.device, part, 'AUTH_a', 'c1'), { 'X-Put-Timestamp': T(2), 'X-Delete-Timestamp': new Timestamp(0).internal, 'X-Object-Count': '2', 'X-Bytes-Used': '20' });
    await httpRequest(handoff.ports.account, 'DELETE', backendPath(handoff.device, part, 'AUTH_a'), { 'X-Timestamp': T(10) });
    assert.equal(await reap(rig, handoff.n), {});
  }));

test('refusals are counted: objects and containers remaining', () =>
  withDeletedAccount(
    storageScript((_node, request) => {
      if (request.method === 'DELETE' && request.path.endsWith('/o1')) return { status: 503 };
      if (request.method === 'DELETE' && /\/c\d$/.test(request.path)) return { status: 409 };
      return undefined;
    }),
    async (rig) => {
      const sums: Record<string, number> = {};
      for (const n of rig.primaries('account', 'AUTH_a')) {
        for (const [k, v] of Object.entries(await reap(rig, n))) sums[k] = (sums[k] ?? 0) + v;
      }
      assert.is(sums['containers_remaining'], 6);
      assert.is(sums['objects_deleted'], 6, 'every o2');
      assert.is(sums['objects_remaining'], 6, 'every o1');
      assert.is(sums['return_codes.5xx'], 18);
    },
  ),
);

test.run();
