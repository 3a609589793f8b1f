import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AccountBroker } from '../../../account/backend.ts';
import { defaultConfig } from '../../../common/config.ts';
import { backendPath } from '../../../common/http/backend-client.ts';
import { Timestamp } from '../../../common/timestamp.ts';
import type { ContainerBroker } from '../../../container/backend.ts';
import { ContainerUpdater } from '../../../replicator/container-updater.ts';
import { containerUpdaterSchema } from '../../../replicator/db-daemon-config.ts';
import { type DbNode, type DbNodes, startDbNodes } from '../../helpers/db-nodes.ts';
import { httpRequest } from '../../helpers/http.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const T = (s: number): string => new Timestamp((1_700_000_000 + s) * 100_000).internal;
const defaults = { ...defaultConfig({ u: containerUpdaterSchema }).u, containers_per_second: 0 };

async function withNodes(fn: (rig: DbNodes, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const rig = await startDbNodes({ clock });
  try {
    await fn(rig, clock);
  } finally {
    await rig.close();
  }
}

const node = (rig: DbNodes, n: number): DbNode => rig.nodes[n - 1] as DbNode;

async function createAccount(rig: DbNodes, account: string): Promise<void> {
  const part = rig.rings.account.getPart(account);
  for (const n of rig.primaries('account', account)) {
    const res = await httpRequest(node(rig, n).ports.account, 'PUT', backendPath(node(rig, n).device, part, account), { 'X-Timestamp': T(1) });
    assert.is(res.status, 201);
  }
}

/** A container on the given nodes (no account update), with `objects` objects of 10 bytes each. */
async function createContainer(rig: DbNodes, nodes: readonly number[], container: string, objects: number): Promise<void> {
  const part = rig.rings.container.getPart('AUTH_a', container);
  for (const n of nodes) {
    const at = (path: string[]): string => backendPath(node(rig, n).device, part, 'AUTH_a', container, ...path);
    assert.is((await httpRequest(node(rig, n).ports.container, 'PUT', at([]), { 'X-Timestamp': T(2) })).status, 201);
    for (let i = 0; i < objects; i++) {
      await httpRequest(node(rig, n).ports.container, 'PUT', at([`o${i}`]), { 'X-Timestamp': T(3 + i), 'X-Size': '10', 'X-Content-Type': 'text/plain', 'X-Etag': 'e' });
    }
  }
}

async function containerBroker(rig: DbNodes, n: number, container: string): Promise<ContainerBroker> {
  return (await node(rig, n).container.datadirs.get(node(rig, n).device)).broker(rig.hashPath.hash('AUTH_a', container));
}

async function accountBroker(rig: DbNodes, n: number, account = 'AUTH_a'): Promise<AccountBroker> {
  return (await node(rig, n).account.datadirs.get(node(rig, n).device)).broker(rig.hashPath.hash(account));
}

async function update(rig: DbNodes, n: number): Promise<Readonly<Record<string, number>>> {
  const daemon = new ContainerUpdater(node(rig, n).ctx, defaults);
  await daemon.runPass();
  return daemon.recon().lastPass;
}

/** The same daemon for several passes (suppressions live in it). */
function updater(rig: DbNodes, n: number): { pass(): Promise<Readonly<Record<string, number>>> } {
  const daemon = new ContainerUpdater(node(rig, n).ctx, defaults);
  return {
    async pass() {
      await daemon.runPass();
      return daemon.recon().lastPass;
    },
  };
}

test('a container whose stats changed is reported to every account replica, and marked reported', () =>
  withNodes(async (rig) => {
    await createAccount(rig, 'AUTH_a');
    const primaries = rig.primaries('container', 'AUTH_a', 'c');
    await createContainer(rig, primaries, 'c', 3);
    const first = await update(rig, primaries[0] as number);
    assert.is(first['successes'], 1);
    for (const n of rig.primaries('account', 'AUTH_a')) {
      const rows = await (await accountBroker(rig, n)).listContainers({ limit: 10 });
      assert.equal(rows.map((r) => ('name' in r ? [r.name, r.object_count, r.bytes_used] : [])), [['c', 3, 30]], `account replica on node ${n}`);
    }
    const info = await (await containerBroker(rig, primaries[0] as number, 'c')).getInfo();
    assert.is(info?.reported_object_count, 3);
    assert.is(info?.reported_bytes_used, 30);
    assert.is(info?.reported_put_timestamp, T(2));
    const again = await update(rig, primaries[0] as number);
    assert.is(again['no_changes'], 1);
    assert.is(again['successes'] ?? 0, 0);
  }));

test('a report most account replicas miss is a failure: nothing is marked, the account waits, then it goes through', () =>
  withNodes(async (rig, clock) => {
    await createAccount(rig, 'AUTH_a');
    const primaries = rig.primaries('container', 'AUTH_a', 'c');
    const self = primaries[0] as number;
    await createContainer(rig, [self], 'c', 2);
    const away = rig.primaries('account', 'AUTH_a').filter((n) => n !== self).slice(0, 2);
    for (const n of away) await rig.pause(n);
    const daemon = updater(rig, self);
    const failed = await daemon.pass();
    assert.is(failed['failures'], 1);
    assert.is((await (await containerBroker(rig, self, 'c')).getInfo())?.reported_object_count, 0);
    for (const n of away) await rig.resume(n);
    assert.is((await daemon.pass())['suppressed'], 1, 'the account is left alone for account_suppression_time');
    clock.advance(61_000);
    assert.is((await daemon.pass())['successes'], 1);
    assert.is((await (await containerBroker(rig, self, 'c')).getInfo())?.reported_object_count, 2);
  }));

test('a handoff database is not reported (only primaries speak for a container)', () =>
  withNodes(async (rig) => {
    await createAccount(rig, 'AUTH_a');
    const primaries = rig.primaries('container', 'AUTH_a', 'c');
    const handoff = rig.nodes.map((n) => n.n).find((n) => !primaries.includes(n)) as number;
    await createContainer(rig, [handoff], 'c', 1);
    const counts = await update(rig, handoff);
    assert.is(counts['handoffs_skipped'], 1);
    for (const n of rig.primaries('account', 'AUTH_a')) assert.equal(await (await accountBroker(rig, n)).listContainers({ limit: 10 }), []);
  }));

test('a container whose account no replica has is quarantined', () =>
  withNodes(async (rig) => {
    const primaries = rig.primaries('container', 'AUTH_a', 'c');
    const self = primaries[0] as number;
    await createContainer(rig, [self], 'c', 1);
    const counts = await update(rig, self);
    assert.is(counts['quarantined'], 1);
    assert.not.ok(await (await containerBroker(rig, self, 'c')).exists());
    const saved = await readdir(join(node(rig, self).devices, node(rig, self).device, 'quarantined', 'containers'));
    assert.equal(saved.length, 1, 'a copy is kept');
  }));

test.run();
