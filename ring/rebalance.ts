import { type Device, RingError } from './device.ts';
import { partitionTargets } from './targets.ts';
import { seededRandom } from '../common/seeded-random.ts';

/** Marks a replica slot with no device. */
export const NONE_DEV = 0xffff;

export interface RebalanceInput {
  readonly partPower: number;
  readonly replicas: number;
  readonly minPartHours: number;
  /** Fraction a device may go over its weighted target to keep replicas apart (0.1 = 10%). */
  readonly overload: number;
  /** Indexed by id; `null` where no device is (devices being removed must already be null). */
  readonly devices: readonly (Device | null)[];
  /** The current table, or null before the first rebalance. Not modified. */
  readonly replica2part2dev: readonly Uint16Array[] | null;
  /** Hours since each partition last moved, already aged to now. Not modified. */
  readonly lastPartMoves: Uint8Array;
  /** Same seed and input, same result. */
  readonly seed: number;
}

export interface RebalanceOutcome {
  readonly replica2part2dev: Uint16Array[];
  readonly lastPartMoves: Uint8Array;
  /** Replica assignments that now name a device they did not name before. */
  readonly moved: number;
}

/**
 * Assigns every replica of every partition to a device. In order:
 *
 * 1. Place what has no device (first build, removed devices, more devices than before):
 *    descend region, zone, server, device, at each level taking the child that is under its
 *    limit, holds the fewest replicas of this partition, and is least full.
 * 2. Improve dispersion: a replica sharing a tier with another replica of its partition moves
 *    to a device with room in a wider-spread place, or swaps with a replica of another
 *    partition so counts stay balanced.
 * 3. Balance: move replicas from devices over their target to devices under it, never making
 *    dispersion worse.
 *
 * min_part_hours: apart from replicas that had no device, at most one replica of a partition
 * moves per rebalance, and none of a partition that moved within `minPartHours`. A replica
 * placed during this run may be placed again: it is still the one move.
 */
export function rebalance(input: RebalanceInput): RebalanceOutcome {
  const state = new RebalanceState(input);
  state.placeUnassigned();
  state.improveDispersion();
  state.balance();
  state.improveDispersion();
  return state.outcome(input.replica2part2dev);
}

function shuffled(n: number, random: () => number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** Tier levels below the root: 0 region, 1 zone, 2 server. Devices are level 3 (by id). */
const LEVELS = 3;

class RebalanceState {
  private readonly parts: number;
  private readonly R: number;
  private readonly assign: Uint16Array[];
  private readonly lastPartMoves: Uint8Array;
  private readonly minPartHours: number;
  private readonly random: () => number;
  private readonly devIds: number[];
  // Per device id.
  private readonly count: Int32Array;
  private readonly target: Int32Array;
  private readonly limit: Int32Array;
  private readonly tierOf: Int32Array[]; // [level][devId] = tier index
  // Per tier index, per level.
  private readonly tierCount: Int32Array[];
  private readonly tierTarget: Int32Array[];
  private readonly tierLimit: Int32Array[];
  private readonly regions: number[];
  private readonly childrenOf: number[][][]; // [level][tier] = children at level+1 (or device ids)
  // Move bookkeeping.
  private readonly movedPart: Uint8Array;
  private readonly fresh: Uint8Array; // [p * R + r]: placed during this run
  private readonly slots: number[][]; // [devId] = slot ids (p * R + r) on it
  private readonly slotPos: Int32Array;
  private readonly freshOn: number[][]; // [devId] = slots placed there this run (may be stale)

  constructor(input: RebalanceInput) {
    this.parts = 2 ** input.partPower;
    this.R = input.replicas;
    this.minPartHours = input.minPartHours;
    this.random = seededRandom(input.seed);
    this.lastPartMoves = Uint8Array.from(input.lastPartMoves);
    const devices = input.devices;
    this.devIds = devices.filter((d): d is Device => d !== null).map((d) => d.id);
    const size = devices.length;
    if (!this.devIds.some((id) => (devices[id]?.weight ?? 0) > 0)) {
      throw new RingError('RING_BUILDER', 'no devices with weight > 0: add devices before rebalancing');
    }
    this.count = new Int32Array(size);
    this.target = new Int32Array(size);
    this.limit = new Int32Array(size);
    const targets = partitionTargets(devices, this.parts, this.R);
    const cap = this.devIds.length >= this.R ? this.parts : this.parts * Math.ceil(this.R / this.devIds.length);
    for (const id of this.devIds) {
      const t = targets.get(id)?.target ?? 0;
      this.target[id] = t;
      this.limit[id] = Math.min(cap, t + Math.floor(t * input.overload));
    }

    // Tier indices: regions, zones (within region), servers (ip:port within zone).
    const keyIndex: Map<string, number>[] = [new Map(), new Map(), new Map()];
    this.tierOf = [new Int32Array(size), new Int32Array(size), new Int32Array(size)];
    const parentOf: number[][] = [[], [], []];
    for (const id of this.devIds) {
      const d = devices[id] as Device;
      const keys = [`r${d.region}`, `r${d.region}z${d.zone}`, `r${d.region}z${d.zone}-${d.ip}:${d.port}`];
      for (let level = 0; level < LEVELS; level++) {
        const key = keys[level] as string;
        let index = keyIndex[level]?.get(key);
        if (index === undefined) {
          index = keyIndex[level]?.size ?? 0;
          keyIndex[level]?.set(key, index);
          (parentOf[level] as number[])[index] = level === 0 ? 0 : (this.tierOf[level - 1] as Int32Array)[id] as number;
        }
        (this.tierOf[level] as Int32Array)[id] = index;
      }
    }
    this.tierCount = keyIndex.map((m) => new Int32Array(m.size));
    this.tierTarget = keyIndex.map((m) => new Int32Array(m.size));
    this.tierLimit = keyIndex.map((m) => new Int32Array(m.size));
    this.regions = [...Array((keyIndex[0] as Map<string, number>).size).keys()];
    this.childrenOf = [[], [], []];
    for (let level = 1; level < LEVELS; level++) {
      (parentOf[level] as number[]).forEach((parent, index) => {
        ((this.childrenOf[level - 1] as number[][])[parent] ??= []).push(index);
      });
    }
    for (const id of this.devIds) {
      ((this.childrenOf[2] as number[][])[(this.tierOf[2] as Int32Array)[id] as number] ??= []).push(id);
      for (let level = 0; level < LEVELS; level++) {
        const t = (this.tierOf[level] as Int32Array)[id] as number;
        const targets = this.tierTarget[level] as Int32Array;
        const limits = this.tierLimit[level] as Int32Array;
        targets[t] = (targets[t] as number) + (this.target[id] as number);
        limits[t] = (limits[t] as number) + (this.limit[id] as number);
      }
    }

    // Current assignments; slots on devices that are gone become unassigned.
    this.movedPart = new Uint8Array(this.parts);
    this.fresh = new Uint8Array(this.parts * this.R);
    this.slots = Array.from({ length: size }, () => []);
    this.freshOn = Array.from({ length: size }, () => []);
    this.slotPos = new Int32Array(this.parts * this.R);
    const old = input.replica2part2dev;
    if (old && old.length !== this.R) {
      throw new RingError('RING_BUILDER', `the table has ${old.length} replicas but the builder has ${this.R}`);
    }
    this.assign = [];
    for (let r = 0; r < this.R; r++) {
      const row = old ? Uint16Array.from(old[r] as Uint16Array) : new Uint16Array(this.parts).fill(NONE_DEV);
      this.assign.push(row);
      for (let p = 0; p < this.parts; p++) {
        const id = row[p] as number;
        if (id !== NONE_DEV && devices[id]) this.put(p, r, id);
        else row[p] = NONE_DEV;
      }
    }
  }

  /** Step 1: every replica without a device gets the best one. */
  placeUnassigned(): void {
    for (const p of shuffled(this.parts, this.random)) {
      for (let r = 0; r < this.R; r++) {
        if ((this.assign[r] as Uint16Array)[p] !== NONE_DEV) continue;
        this.movedPart[p] = 1;
        this.put(p, r, this.choose(p, r, false));
        this.markMoved(p, r);
      }
    }
  }

  /** Step 2: replicas that share a tier move apart, directly or by swapping. */
  improveDispersion(): void {
    for (const p of shuffled(this.parts, this.random)) {
      for (let r = 0; r < this.R; r++) {
        const current = (this.assign[r] as Uint16Array)[p] as number;
        const score = this.score(p, r, current);
        if (score === 0 || !this.canMove(p, r)) continue;
        // Most crowding is the best the tiers allow (3 replicas, 2 regions): skip those cheaply.
        if (this.score(p, r, this.choose(p, r, true)) >= score) continue;
        this.take(p, r);
        const candidate = this.choose(p, r, false);
        if (candidate !== current && this.score(p, r, candidate) < score && (this.count[candidate] as number) < (this.limit[candidate] as number)) {
          this.put(p, r, candidate);
          this.markMoved(p, r);
          continue;
        }
        this.put(p, r, current);
        this.trySwap(p, r, current, score);
      }
    }
  }

  /**
   * Step 3: devices over their target give replicas to devices under it, each replica to the
   * neediest device where it is no more crowded; when none qualifies, through a middle
   * device: the replica goes to a device that can take it, which passes one of its own on.
   */
  balance(): void {
    const under = this.devIds.filter((d) => (this.count[d] as number) < (this.target[d] as number));
    if (under.length === 0) return;
    const over = this.devIds
      .filter((d) => (this.count[d] as number) > (this.target[d] as number))
      .sort((a, b) => (this.count[b] as number) - (this.target[b] as number) - ((this.count[a] as number) - (this.target[a] as number)) || a - b);
    const needy = (): number[] => under.filter((u) => (this.count[u] as number) < (this.target[u] as number));
    for (const chained of [false, true]) {
      for (const o of over) {
        const list = this.slots[o] as number[];
        // Walk backwards: taking the slot at i moves the last (already seen) slot into i.
        for (let i = list.length - 1; i >= 0; i--) {
          if ((this.count[o] as number) <= (this.target[o] as number)) break;
          const open = needy();
          if (open.length === 0) return;
          const slot = list[i] as number;
          const p = Math.floor(slot / this.R);
          const r = slot - p * this.R;
          if (!this.canMove(p, r)) continue;
          const here = this.score(p, r, o);
          let best = -1;
          for (const u of open) {
            if (this.score(p, r, u) > here) continue;
            if (best === -1 || (this.target[u] as number) - (this.count[u] as number) > (this.target[best] as number) - (this.count[best] as number)) best = u;
          }
          if (best !== -1) this.moveTo(p, r, best);
          else if (chained) this.moveThroughMiddle(p, r, o, here, open);
        }
      }
    }
  }

  /** Replica `r` of `p` on `o` goes to a middle device that hands one replica on to `open`. */
  private moveThroughMiddle(p: number, r: number, o: number, here: number, open: readonly number[]): boolean {
    for (const w of this.devIds) {
      if (w === o || (this.target[w] as number) === 0 || this.score(p, r, w) > here) continue;
      for (const slot of this.movable(w)) {
        const q = Math.floor(slot / this.R);
        if (q === p) continue;
        const rq = slot - q * this.R;
        const there = this.score(q, rq, w);
        const u = open.find((d) => d !== w && (this.count[d] as number) < (this.target[d] as number) && this.score(q, rq, d) <= there);
        if (u === undefined) continue;
        this.moveTo(q, rq, u);
        this.moveTo(p, r, w);
        return true;
      }
    }
    return false;
  }

  outcome(old: readonly Uint16Array[] | null): RebalanceOutcome {
    let moved = 0;
    const before = new Int32Array(this.R);
    for (let p = 0; p < this.parts; p++) {
      if (this.movedPart[p]) this.lastPartMoves[p] = 0;
      for (let k = 0; k < this.R; k++) before[k] = old ? ((old[k] as Uint16Array)[p] as number) : -1;
      for (let r = 0; r < this.R; r++) {
        const at = before.indexOf((this.assign[r] as Uint16Array)[p] as number);
        if (at === -1) moved++;
        else before[at] = -1; // matched once, like a multiset
      }
    }
    return { replica2part2dev: this.assign, lastPartMoves: this.lastPartMoves, moved };
  }

  private canMove(p: number, r: number): boolean {
    return this.fresh[p * this.R + r] === 1 || (this.movedPart[p] === 0 && (this.lastPartMoves[p] as number) >= this.minPartHours);
  }

  private markMoved(p: number, r: number): void {
    this.movedPart[p] = 1;
    this.fresh[p * this.R + r] = 1;
    (this.freshOn[(this.assign[r] as Uint16Array)[p] as number] as number[]).push(p * this.R + r);
  }

  /**
   * Slots on device `d` that may move: a random window of its list, then every replica
   * placed there during this run (when min_part_hours locks the rest, those are all there is).
   */
  private *movable(d: number): Generator<number> {
    const list = this.slots[d] as number[];
    const n = list.length;
    const start = Math.floor(this.random() * n);
    for (let k = 0; k < Math.min(n, 256); k++) {
      const slot = list[(start + k) % n] as number;
      if (this.canMoveSlot(slot)) yield slot;
    }
    const fresh = this.freshOn[d] as number[];
    for (let k = fresh.length - 1; k >= 0 && k >= fresh.length - 4096; k--) {
      const slot = fresh[k] as number;
      const p = Math.floor(slot / this.R);
      if ((this.assign[slot - p * this.R] as Uint16Array)[p] === d) yield slot;
    }
  }

  private canMoveSlot(slot: number): boolean {
    const p = Math.floor(slot / this.R);
    return this.canMove(p, slot - p * this.R);
  }

  /** Moves replica `r` of `p` to device `d` and records the move. */
  private moveTo(p: number, r: number, d: number): void {
    this.take(p, r);
    this.put(p, r, d);
    this.markMoved(p, r);
  }

  /**
   * How crowded device `d` would be for replica `r` of partition `p`: counts of the other
   * replicas sharing its region, zone, server and device, wider tiers weighing more.
   * Lower is better; 0 means fully apart.
   */
  private score(p: number, r: number, d: number): number {
    const [region, zone, server] = this.tierOf as [Int32Array, Int32Array, Int32Array];
    let sr = 0;
    let sz = 0;
    let ss = 0;
    let sd = 0;
    for (let k = 0; k < this.R; k++) {
      if (k === r) continue;
      const o = (this.assign[k] as Uint16Array)[p] as number;
      if (o === NONE_DEV || region[o] !== region[d]) continue;
      sr++;
      if (zone[o] !== zone[d]) continue;
      sz++;
      if (server[o] !== server[d]) continue;
      ss++;
      if (o === d) sd++;
    }
    return ((sr * 32 + sz) * 32 + ss) * 32 + sd;
  }

  /**
   * The device a descent through the tiers picks for replica `r` of partition `p`; with
   * `spreadOnly` it ignores how full devices are and finds the least crowded place.
   */
  private choose(p: number, r: number, spreadOnly: boolean): number {
    let tier = this.pick(this.regions, 0, p, r, spreadOnly);
    tier = this.pick((this.childrenOf[0] as number[][])[tier] as number[], 1, p, r, spreadOnly);
    tier = this.pick((this.childrenOf[1] as number[][])[tier] as number[], 2, p, r, spreadOnly);
    return this.pick((this.childrenOf[2] as number[][])[tier] as number[], 3, p, r, spreadOnly);
  }

  /**
   * Among `candidates` at `level`: under limit first, then fewest replicas of `p`, then the
   * least full, chosen at random among those within 1% (or 2 partitions) of the least full.
   * The randomness matters: always taking the single least-full child makes partitions march
   * in lockstep, so a device's partitions would all share the same few partner devices.
   */
  private pick(candidates: readonly number[], level: number, p: number, r: number, spreadOnly: boolean): number {
    const keys = this.pickKeys;
    keys.length = 0;
    let bestOver = 2;
    let bestReps = Number.MAX_SAFE_INTEGER;
    let bestFull = Number.POSITIVE_INFINITY;
    for (const c of candidates) {
      const target = level === 3 ? (this.target[c] as number) : ((this.tierTarget[level] as Int32Array)[c] as number);
      if (target === 0) continue;
      const count = level === 3 ? (this.count[c] as number) : ((this.tierCount[level] as Int32Array)[c] as number);
      const limit = level === 3 ? (this.limit[c] as number) : ((this.tierLimit[level] as Int32Array)[c] as number);
      const over = !spreadOnly && count >= limit ? 1 : 0;
      let reps = 0;
      for (let k = 0; k < this.R; k++) {
        if (k === r) continue;
        const o = (this.assign[k] as Uint16Array)[p] as number;
        if (o !== NONE_DEV && (level === 3 ? o : (this.tierOf[level] as Int32Array)[o]) === c) reps++;
      }
      const full = count / target;
      // Near-ties count as ties: slack of 1%, or 2 partitions for small targets.
      const slack = Math.max(0.01, 2 / target);
      keys.push({ c, over, reps, full, slack });
      if (over < bestOver || (over === bestOver && (reps < bestReps || (reps === bestReps && full < bestFull)))) {
        bestOver = over;
        bestReps = reps;
        bestFull = full;
      }
    }
    if (keys.length === 0) throw new RingError('RING_BUILDER', 'no device with weight > 0 to place a partition on');
    let chosen = -1;
    let seen = 0;
    for (const k of keys) {
      if (k.over !== bestOver || k.reps !== bestReps || k.full > bestFull + k.slack) continue;
      seen += 1;
      if (this.random() * seen < 1) chosen = k.c; // reservoir sampling: uniform among the ties
    }
    return chosen;
  }
  private readonly pickKeys: { c: number; over: number; reps: number; full: number; slack: number }[] = [];

  /**
   * Moves replica `r` of `p` (on `from`) to a device where it is less crowded, and in exchange
   * moves a replica of another partition from there to `from` (or to any device with room),
   * where that one is no more crowded. Counts stay balanced.
   */
  private trySwap(p: number, r: number, from: number, score: number): boolean {
    const room = this.devIds.filter((d) => d !== from && (this.count[d] as number) < (this.limit[d] as number));
    for (const i of shuffled(this.devIds.length, this.random)) {
      const to = this.devIds[i] as number;
      if (to === from || (this.target[to] as number) === 0 || this.score(p, r, to) >= score) continue;
      for (const slot of this.movable(to)) {
        const q = Math.floor(slot / this.R);
        if (q === p) continue;
        const rq = slot - q * this.R;
        const there = this.score(q, rq, to);
        const dest = this.score(q, rq, from) <= there ? from : room.find((d) => d !== to && this.score(q, rq, d) <= there);
        if (dest === undefined) continue;
        this.moveTo(q, rq, dest);
        this.moveTo(p, r, to);
        return true;
      }
    }
    return false;
  }

  private put(p: number, r: number, d: number): void {
    (this.assign[r] as Uint16Array)[p] = d;
    this.count[d] = (this.count[d] as number) + 1;
    for (let level = 0; level < LEVELS; level++) {
      const counts = this.tierCount[level];
      const t = (this.tierOf[level] as Int32Array)[d] as number;
      if (counts) counts[t] = (counts[t] as number) + 1;
    }
    const list = this.slots[d] as number[];
    this.slotPos[p * this.R + r] = list.length;
    list.push(p * this.R + r);
  }

  private take(p: number, r: number): void {
    const row = this.assign[r] as Uint16Array;
    const d = row[p] as number;
    row[p] = NONE_DEV;
    this.count[d] = (this.count[d] as number) - 1;
    for (let level = 0; level < LEVELS; level++) {
      const counts = this.tierCount[level];
      const t = (this.tierOf[level] as Int32Array)[d] as number;
      if (counts) counts[t] = (counts[t] as number) - 1;
    }
    const list = this.slots[d] as number[];
    const slot = p * this.R + r;
    const at = this.slotPos[slot] as number;
    const last = list.pop() as number;
    if (last !== slot) {
      list[at] = last;
      this.slotPos[last] = at;
    }
  }
}
