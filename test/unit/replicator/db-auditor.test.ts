import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackMultiple } from 'msgpackr';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../common/config.ts';
import type { Datadir } from '../../../common/db/datadir.ts';
import type { OrderedKv } from '../../../common/db/kv.ts';
import { decodeRecord, encodeRecord } from '../../../common/db/record-codec.ts';
import { backendPath } from '../../../common/http/backend-client.ts';
import { Timestamp } from '../../../common/timestamp.ts';
import { AccountAuditor } from '../../../replicator/account-auditor.ts';
import { ContainerAuditor } from '../../../replicator/container-auditor.ts';
import { accountAuditorSchema, containerAuditorSchema } from '../../../replicator/db-daemon-config.ts';
import { type DbNode, type DbNodes, startDbNodes } from '../../helpers/db-nodes.ts';
import { httpRequest } from '../../helpers/http.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const T = (s: number): string => new Timestamp((1_700_000_000 + s) * 100_000).internal;
const containerDefaults = { ...defaultConfig({ a: containerAuditorSchema }).a, containers_per_second: 0 };

async function withNode(fn: (rig: DbNodes, n: DbNode) => Promise<void>): Promise<void> {
  const rig = await startDbNodes({ clock: new ManualClock(), count: 3 });
  try {
    await fn(rig, rig.nodes[0] as DbNode);
  } finally {
    await rig.close();
  }
}

async function createContainer(rig: DbNodes, n: DbNode, container: string, objects: number): Promise<string> {
  const part = rig.rings.container.getPart('AUTH_a', container);
  const at = (path: string[]): string => backendPath(n.device, part, 'AUTH_a', container, ...path);
  await httpRequest(n.ports.container, 'PUT', at([]), { 'X-Timestamp': T(1) });
  for (let i = 0; i < objects; i++) await httpRequest(n.ports.container, 'PUT', at([`o${i}`]), { 'X-Timestamp': T(2 + i), 'X-Size': String(i), 'X-Content-Type': 't', 'X-Etag': 'e' });
  await httpRequest(n.ports.container, 'DELETE', at(['o0']), { 'X-Timestamp': T(100) });
  return rig.hashPath.hash('AUTH_a', container);
}

/** The device's store under its datadir (tests only: to break a database on purpose). */
async function kvOf(n: DbNode): Promise<OrderedKv> {
  const datadir = await n.container.datadirs.get(n.device);
  return (datadir as unknown as Datadir<unknown> & { ctx: { kv: OrderedKv } }).ctx.kv;
}

async function audit(n: DbNode, fullCheckInterval = 0): Promise<Readonly<Record<string, number>>> {
  const daemon = new ContainerAuditor(n.ctx, { ...containerDefaults, full_check_interval: fullCheckInterval });
  await daemon.runPass();
  return daemon.recon().lastPass;
}

test('healthy databases pass, on light and full passes', () =>
  withNode(async (rig, n) => {
    for (const c of ['a', 'b', 'c']) await createContainer(rig, n, c, 5);
    const full = await audit(n);
    assert.is(full['passes'], 3);
    assert.is(full['full_checks'], 3);
    assert.is(full['quarantined'] ?? 0, 0);
    const accounts = new AccountAuditor(n.ctx, { ...defaultConfig({ a: accountAuditorSchema }).a, accounts_per_second: 0 });
    await accounts.runPass();
    assert.equal(accounts.recon().lastPass, {}, 'no account databases here');
  }));

test('stats that do not match the rows: a full pass quarantines the database and keeps a copy; a light pass does not look', () =>
  withNode(async (rig, n) => {
    const hash = await createContainer(rig, n, 'bad', 5);
    await createContainer(rig, n, 'good', 5);
    const kv = await kvOf(n);
    const stats = decodeRecord((await kv.get(`${hash}S`)) as Uint8Array) as { policies: Record<string, number[]> };
    await kv.batch([{ type: 'put', key: `${hash}S`, value: encodeRecord({ ...stats, policies: { '0': [99, 10] } }) }]);

    const light = new ContainerAuditor(n.ctx, { ...containerDefaults, full_check_interval: 86_400 });
    await light.runPass(); // the first pass after start is full
    assert.is(light.recon().lastPass['quarantined'], 1);
    assert.is(light.recon().lastPass['passes'], 1);
    const datadir = await n.container.datadirs.get(n.device);
    assert.not.ok(await datadir.broker(hash).exists(), 'removed, so replication restores it');
    const dir = join(n.devices, n.device, 'quarantined', 'containers');
    const [saved] = await readdir(dir);
    assert.match(saved ?? '', new RegExp(`^${hash}-\\d+\\.dump$`));
    const parts = unpackMultiple(await readFile(join(dir, saved as string))) as unknown[];
    assert.is((parts[0] as { record: { container: string } }).record.container, 'bad');
    assert.is(parts.slice(1).flat().length, 5, 'every row was saved');

    // A second break is not seen until the next full pass.
    const other = rig.hashPath.hash('AUTH_a', 'good');
    const otherStats = decodeRecord((await kv.get(`${other}S`)) as Uint8Array) as Record<string, unknown>;
    await kv.batch([{ type: 'put', key: `${other}S`, value: encodeRecord({ ...otherStats, policies: { '0': [1, 1] } }) }]);
    await light.runPass();
    assert.is(light.recon().lastPass['passes'], 1);
    assert.is(light.recon().lastPass['full_checks'] ?? 0, 0);
  }));

test('incoherent info is found on every pass', () =>
  withNode(async (rig, n) => {
    const hash = await createContainer(rig, n, 'c', 2);
    const kv = await kvOf(n);
    const record = decodeRecord((await kv.get(`${hash}I`)) as Uint8Array) as Record<string, unknown>;
    await kv.batch([{ type: 'put', key: `${hash}I`, value: encodeRecord({ ...record, put_timestamp: 'yesterday' }) }]);
    const counts = await audit(n, 86_400 * 365);
    assert.is(counts['quarantined'], 1);
  }));

test('a row both live and deleted, or missing from the row sequence, fails the full check', () =>
  withNode(async (rig, n) => {
    const kv = await kvOf(n);
    const twice = await createContainer(rig, n, 'twice', 3);
    // o1's live row, copied under the deleted rows: replication could send either.
    const live = (await kv.get(`${twice}O00000000o1`)) as Uint8Array;
    await kv.batch([{ type: 'put', key: `${twice}T00000000o1`, value: live }]);
    const unsequenced = await createContainer(rig, n, 'unsequenced', 3);
    const it = kv.iterator({ gte: `${unsequenced}Q`, lt: `${unsequenced}R` });
    const [first] = await it.nextv(1);
    await it.close();
    await kv.batch([{ type: 'del', key: (first as [string, Uint8Array])[0] }]);
    const counts = await audit(n);
    assert.is(counts['quarantined'], 2);
  }));

test('a database indexed under another partition than its record names is broken, unless it just moved', () =>
  withNode(async (rig, n) => {
    const hash = await createContainer(rig, n, 'moved', 1);
    const broker = (await n.container.datadirs.get(n.device)).broker(hash);
    const part = (await broker.getInfo())?.partition as number;
    const auditor = new ContainerAuditor(n.ctx, containerDefaults);
    assert.equal(await auditor.audit(broker, part, true), { kind: 'ok' });
    assert.equal(await auditor.audit(broker, part + 1, false, async () => false), { kind: 'busy' });
    assert.is((await auditor.audit(broker, part + 1, false, async () => true)).kind, 'broken');
  }));

test.run();
