import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashPath } from '../../../common/hash-path.ts';
import { ErrorLimiter } from '../../../proxy/error-limiter.ts';
import { nodeIter } from '../../../proxy/node-iter.ts';
import { RingBuilder } from '../../../ring/builder.ts';
import { Ring } from '../../../ring/ring.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

function ring(): Ring {
  const b = RingBuilder.create({ partPower: 4, replicas: 3, minPartHours: 0 }, new ManualClock());
  for (let i = 0; i < 8; i++) b.addDevice({ region: 1, zone: i + 1, ip: `10.0.0.${i}`, port: 6200, device: 'sda', weight: 1 });
  b.rebalance({ seed: 1 });
  return Ring.fromData(b.ringData(), new HashPath('', 's'));
}

test('primaries first, then handoffs, 2 × replicas at most', () => {
  const r = ring();
  const limiter = new ErrorLimiter({ clock: new ManualClock(), intervalMs: 60_000, limit: 10 });
  const nodes = [...nodeIter(r, 5, limiter)];
  assert.is(nodes.length, 6);
  assert.equal(nodes.slice(0, 3).map((n) => n.id), r.getPartNodes(5).map((n) => n.id));
  assert.equal(nodes.map((n) => n.handoff), [false, false, false, true, true, true]);
  assert.equal(nodes.slice(3).map((n) => n.id), [...r.moreNodes(5)].slice(0, 3).map((n) => n.id));
});

test('error-limited nodes are skipped; a shared iterator hands each node out once', () => {
  const r = ring();
  const clock = new ManualClock();
  const limiter = new ErrorLimiter({ clock, intervalMs: 60_000, limit: 10 });
  const [first] = r.getPartNodes(5);
  limiter.errorLimit(first as NonNullable<typeof first>);
  const it = nodeIter(r, 5, limiter);
  const a = it.next().value;
  const b = it.next().value;
  assert.ok(a && b && a.id !== b.id && a.id !== first?.id && b.id !== first?.id);
  assert.is([...it].length, 4);
});

test('preferred primaries (replicas on the proxy\'s machine) come first, each with its own replica index; handoffs stay after the primaries', () => {
  const r = ring();
  const limiter = new ErrorLimiter({ clock: new ManualClock(), intervalMs: 60_000, limit: 10 });
  const primaries = r.getPartNodes(5);
  const last = primaries[2] as NonNullable<(typeof primaries)[number]>;
  const nodes = [...nodeIter(r, 5, limiter, { preferred: (n) => n.ip === last.ip })];
  assert.equal(nodes.slice(0, 3).map((n) => n.id), [last.id, primaries[0]?.id, primaries[1]?.id]);
  assert.equal(nodes.slice(0, 3).map((n) => n.index), [last.index, primaries[0]?.index, primaries[1]?.index]);
  assert.equal(nodes.map((n) => n.handoff), [false, false, false, true, true, true]);
  // A preferred handoff is still a handoff: it does not jump the primaries.
  const handoff = [...r.moreNodes(5)][0] as NonNullable<(typeof primaries)[number]>;
  assert.equal([...nodeIter(r, 5, limiter, { preferred: (n) => n.ip === handoff.ip })].slice(0, 3).map((n) => n.id), primaries.map((n) => n.id));
});

test.run();
