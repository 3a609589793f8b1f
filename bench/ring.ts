/**
 * Ring micro-benchmark: rebalance time for a large ring, and lookups per second.
 *
 *   npm run bench:ring [-- --part-power 18 --devices 100]
 *
 * Prints one line per measurement; numbers are for notes, never asserted by tests.
 */
import { systemClock } from '../common/clock.ts';
import { splitArgs } from '../common/cli-args.ts';
import { HashPath } from '../common/hash-path.ts';
import { RingBuilder } from '../ring/builder.ts';
import { Ring } from '../ring/ring.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['part-power', 'devices', 'lookups']));
const partPower = Number(flags.get('part-power') ?? 18);
const devices = Number(flags.get('devices') ?? 100);
const lookups = Number(flags.get('lookups') ?? 1_000_000);

const builder = RingBuilder.create({ partPower, replicas: 3, minPartHours: 1 }, systemClock);
for (let i = 0; i < devices; i++) {
  // 2 regions, 10 zones, 4 devices per server, mixed weights.
  builder.addDevice({ region: (i % 2) + 1, zone: (i % 10) + 1, ip: `10.${i % 10}.${Math.floor(i / 40)}.${Math.floor(i / 10) % 4}`, port: 6210, device: `sd${i}`, weight: [100, 150, 200][i % 3] as number });
}
let t0 = performance.now();
const first = builder.rebalance({ seed: 1 });
const firstMs = performance.now() - t0;
console.log(`rebalance part_power=${partPower} devices=${devices} replicas=3: ${firstMs.toFixed(0)} ms (balance ${first.balance.toFixed(3)}%, dispersion ${first.dispersion.toFixed(3)}%)`);

builder.pretendMinPartHoursPassed();
builder.addDevice({ region: 1, zone: 3, ip: '10.99.0.1', port: 6210, device: 'added', weight: 150 });
t0 = performance.now();
const second = builder.rebalance({ seed: 2 });
console.log(`rebalance after adding 1 device: ${(performance.now() - t0).toFixed(0)} ms, moved ${second.moved} of ${builder.partitions * 3} assignments (${((second.moved / (builder.partitions * 3)) * 100).toFixed(2)}%)`);

const ring = Ring.fromData(builder.ringData(), new HashPath('', 'bench'));
const names = Array.from({ length: 10_000 }, (_, i) => `object-${i}/with/a/longer/name.bin`);
for (let i = 0; i < 50_000; i++) ring.getNodes('AUTH_bench', 'container', names[i % names.length]); // warm up
t0 = performance.now();
for (let i = 0; i < lookups; i++) ring.getNodes('AUTH_bench', 'container', names[i % names.length]);
const perSec = lookups / ((performance.now() - t0) / 1000);
console.log(`getNodes(account, container, object): ${Math.round(perSec).toLocaleString('en-US')} lookups/s (${lookups.toLocaleString('en-US')} lookups)`);
t0 = performance.now();
for (let i = 0; i < lookups; i++) ring.getPart('AUTH_bench', 'container', names[i % names.length]);
console.log(`getPart only: ${Math.round(lookups / ((performance.now() - t0) / 1000)).toLocaleString('en-US')} lookups/s`);
let handoffs = 0;
t0 = performance.now();
for (let p = 0; p < 10_000; p++) {
  const it = ring.moreNodes(p);
  it.next();
  handoffs++;
}
console.log(`first handoff: ${Math.round(handoffs / ((performance.now() - t0) / 1000)).toLocaleString('en-US')} lookups/s`);
