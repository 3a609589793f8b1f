import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig, parseIni, validateConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';
import { HashPath } from '../../../common/hash-path.ts';
import { proxyNodeSchemas } from '../../../cli/proxy-node.ts';
import { readAffinityRank, writeAffinityLocal, writeAffinityNodeCount } from '../../../proxy/affinity.ts';
import { NodeOrder } from '../../../proxy/node-order.ts';
import { RingBuilder } from '../../../ring/builder.ts';
import { Ring } from '../../../ring/ring.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const base = defaultConfig(proxyNodeSchemas)['proxy-server'];
const loadConfig = (text: string, schemas: typeof proxyNodeSchemas) => validateConfig(parseIni(text), schemas);

/** Eight devices: r1z1, r1z2, r1z3, r1z4 and r2z1 ... r2z4, one per address. */
function ring(): Ring {
  const b = RingBuilder.create({ partPower: 4, replicas: 3, minPartHours: 0 }, new ManualClock());
  for (let i = 0; i < 8; i++) b.addDevice({ region: i < 4 ? 1 : 2, zone: (i % 4) + 1, ip: `10.0.0.${i}`, port: 6200, device: 'sda', weight: 1 });
  b.rebalance({ seed: 1 });
  return Ring.fromData(b.ringData(), new HashPath('', 's'));
}

/** A partition whose primaries are in both regions. */
function mixedPartition(r: Ring): number {
  for (let p = 0; p < 16; p++) {
    const regions = new Set(r.getPartNodes(p).map((n) => n.region));
    if (regions.size === 2) return p;
  }
  throw new Error('no partition spans both regions');
}

test("read_affinity ranks by Swift's rules: zone before region by priority, unnamed places last; bad values refused in Swift's words", () => {
  const rank = readAffinityRank('r2=200, r1z2=100 , r1=150');
  assert.is(rank({ region: 1, zone: 2 }), 100);
  assert.is(rank({ region: 1, zone: 3 }), 150);
  assert.is(rank({ region: 2, zone: 2 }), 200);
  assert.is(rank({ region: 3, zone: 1 }), 4_294_967_296);
  assert.is(readAffinityRank('  ')({ region: 9, zone: 9 }), 0);
  assert.throws(() => readAffinityRank('r1=x'), /^Invalid affinity value: 'r1=x'$/);
  assert.throws(() => readAffinityRank('r1z1'), /Invalid affinity value/);
});

test('write_affinity and write_affinity_node_count as Swift reads them', () => {
  const local = writeAffinityLocal('r1, r2z2') as (n: { region: number; zone: number }) => boolean;
  assert.ok(local({ region: 1, zone: 7 }));
  assert.ok(local({ region: 2, zone: 2 }));
  assert.not.ok(local({ region: 2, zone: 1 }));
  assert.is(writeAffinityLocal(''), undefined);
  assert.throws(() => writeAffinityLocal('r1=1'), /^Invalid write-affinity value: 'r1=1'$/);
  assert.is(writeAffinityNodeCount('2 * replicas')(3), 6);
  assert.is(writeAffinityNodeCount('5')(3), 5);
  assert.throws(() => writeAffinityNodeCount('two * replicas'), /^Invalid write_affinity_node_count value: 'two \* replicas'$/);
});

test('sorting_method = affinity: a read asks the primaries best-ranked first; shuffle keeps every primary', () => {
  const r = ring();
  const part = mixedPartition(r);
  const primaries = r.getPartNodes(part);
  const affinity = new NodeOrder({ ...base, sorting_method: 'affinity', read_affinity: 'r2=1, r1=2' }, {}, [0], { clock: new ManualClock() });
  const sorted = affinity.sortPrimaries(primaries);
  const regions = sorted.map((n) => n.region);
  assert.equal(regions, [...regions].sort((a, b) => b - a), 'region 2 first');
  const shuffle = new NodeOrder(base, {}, [0], { clock: new ManualClock(), random: () => 0 });
  const shuffled = shuffle.sortPrimaries(primaries);
  assert.equal(new Set(shuffled.map((n) => n.id)), new Set(primaries.map((n) => n.id)));
  assert.not.equal(shuffled.map((n) => n.id), primaries.map((n) => n.id), 'a shuffle that moves nodes changes the order');
});

test('sorting_method = timing: the node that answered fastest goes first, until its timing expires', () => {
  const r = ring();
  const primaries = r.getPartNodes(3);
  const clock = new ManualClock();
  const order = new NodeOrder({ ...base, sorting_method: 'timing', timing_expiry: 300 }, {}, [0], { clock });
  const [a, b, c] = primaries as [(typeof primaries)[number], (typeof primaries)[number], (typeof primaries)[number]];
  order.recordTiming(a, 30);
  order.recordTiming(b, 5);
  order.recordTiming(c, 12);
  assert.equal(order.sortPrimaries(primaries).map((n) => n.id), [b.id, c.id, a.id]);
  clock.advance(301_000);
  order.recordTiming(a, 40);
  // b's and c's timings expired: they count as never timed (-1), before a.
  assert.is(order.sortPrimaries(primaries)[2]?.id, a.id);
});

test('write_affinity = r1: a PUT tries region 1 nodes (primaries and handoffs) first, up to write_affinity_node_count; a DELETE adds one local handoff per remote primary', () => {
  const r = ring();
  const part = mixedPartition(r);
  const primaries = r.getPartNodes(part);
  const order = new NodeOrder({ ...base, write_affinity: 'r1', write_affinity_node_count: '3' }, {}, [0], { clock: new ManualClock() });
  const nodes = [...(order.writeOrder(r, part) ?? [])];
  assert.equal(nodes.slice(0, 3).map((n) => n.region), [1, 1, 1]);
  assert.is(new Set(nodes.map((n) => n.id)).size, 8, 'every node once');
  const remote = primaries.filter((n) => n.region !== 1).length;
  const del = order.deleteNodes(r, part);
  const delNodes = [...(del?.nodes ?? [])];
  assert.is(del?.slots, 3 + remote);
  assert.equal(delNodes.slice(0, 3).map((n) => n.id), primaries.map((n) => n.id));
  assert.equal(delNodes.slice(3, 3 + remote).map((n) => n.region), Array(remote).fill(1));
  assert.is(new Set(delNodes.map((n) => n.id)).size, 8, 'every node once');
  assert.is(new NodeOrder(base, {}, [0], { clock: new ManualClock() }).writeOrder(r, part), undefined, 'no write_affinity: primaries, then handoffs');
});

test('[proxy-server:policy:N] overrides what it names for that policy; an override for no policy is refused', () => {
  const r = ring();
  const part = mixedPartition(r);
  const config = loadConfig('[proxy-server]\nwrite_affinity = r1\nsorting_method = Affinity\nread_affinity = r1=1\n[proxy-server:policy:1]\nwrite_affinity =\nread_affinity = r2=1\n', proxyNodeSchemas);
  assert.is(config['proxy-server'].sorting_method, 'affinity');
  const order = new NodeOrder(config['proxy-server'], config['proxy-server:policy:*'], [0, 1], { clock: new ManualClock() });
  assert.ok(order.writeOrder(r, part, 0), 'policy 0: the default section');
  assert.is(order.writeOrder(r, part, 1), undefined, 'policy 1: write_affinity emptied');
  assert.is(order.sortPrimaries(r.getPartNodes(part), 1)[0]?.region, 2, "policy 1's read_affinity, the default's sorting_method");
  assert.throws(() => new NodeOrder(config['proxy-server'], config['proxy-server:policy:*'], [0], { clock: new ManualClock() }), (err: unknown) => err instanceof ConfigError && /No policy found for override config, index: 1/.test(err.message));
  assert.equal(order.unusedReadAffinity, []);
  // read_affinity without sorting by it is reported (Swift warns at start), per section that ends up so.
  const unused = loadConfig('[proxy-server]\nread_affinity = r1=1\n[proxy-server:policy:1]\nsorting_method = affinity\n[proxy-server:policy:2]\nsorting_method = timing\n', proxyNodeSchemas);
  assert.equal(new NodeOrder(unused['proxy-server'], unused['proxy-server:policy:*'], [0, 1, 2], { clock: new ManualClock() }).unusedReadAffinity, ['(default)', 'policy 2']);
});

test("bad node order settings stop the proxy's config from loading, in Swift's words", () => {
  assert.throws(() => loadConfig('[proxy-server]\nsorting_method = fastest\n', proxyNodeSchemas), /Invalid sorting_method value; must be one of shuffle, timing, affinity, not 'fastest'/);
  assert.throws(() => loadConfig('[proxy-server]\nread_affinity = r1\n', proxyNodeSchemas), /Invalid affinity value: 'r1'/);
  assert.throws(() => loadConfig('[proxy-server:policy:0]\nwrite_affinity = region1\n', proxyNodeSchemas), /Invalid write-affinity value: 'region1'/);
  assert.throws(() => loadConfig('[proxy-server:policy:0]\nbind_port = 1\n', proxyNodeSchemas), /unknown key/);
});

test.run();
