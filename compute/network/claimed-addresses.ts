import type { Clock } from '../../common/clock.ts';
import type { NetworkStore } from './store.ts';

interface SubnetView {
  /** Addresses the last listing of the subnet's claims held, plus what this process claimed or met since. */
  known: Set<string>;
  listedAt: number;
  listing?: Promise<Set<string>>;
}

/**
 * What this process believes is taken on each subnet, so a port create draws an address
 * without listing the subnet's claims first. A belief, never the authority: the claim record
 * (`ip-allocations/<subnet>/<address>`, created only if absent) decides, so a stale view can
 * only cost a retry (an address another process took meanwhile) or leave an address freed
 * elsewhere unused until the next listing; it can never give an address twice. Addresses drawn
 * by requests still in flight here are in the view at once, so 50 concurrent creates in one
 * process draw 50 different addresses instead of racing for the same ones. The view is listed
 * again after `freshMs`, when a draw loses a race, and before the subnet is declared full.
 */
export class ClaimedAddresses {
  private readonly store: NetworkStore;
  private readonly clock: Clock;
  private readonly freshMs: number;
  private readonly subnets = new Map<string, SubnetView>();
  /** Addresses drawn here whose claim is not settled yet, per subnet: kept across listings. */
  private readonly drawing = new Map<string, Set<string>>();

  constructor(store: NetworkStore, clock: Clock, freshMs: number) {
    this.store = store;
    this.clock = clock;
    this.freshMs = freshMs;
  }

  /** The addresses to treat as taken on `subnetId` (listed when stale or when `relist`). */
  async taken(subnetId: string, relist = false): Promise<ReadonlySet<string>> {
    const view = this.subnets.get(subnetId);
    if (view && !relist && this.clock.now() - view.listedAt < this.freshMs) return view.known;
    if (view?.listing) return view.listing;
    const fresh: SubnetView = view ?? { known: new Set(), listedAt: Number.NEGATIVE_INFINITY };
    this.subnets.set(subnetId, fresh);
    const startedAt = this.clock.now();
    const listing = this.store.keys('ip-allocations', `${subnetId}/`).then((keys) => {
      const known = new Set(keys.map((k) => k.slice(subnetId.length + 1)));
      for (const ip of this.drawing.get(subnetId) ?? []) known.add(ip);
      fresh.known = known;
      fresh.listedAt = startedAt;
      return known;
    });
    fresh.listing = listing;
    try {
      return await listing;
    } finally {
      delete fresh.listing;
    }
  }

  /** An address drawn here: no other draw of this process takes it until `settled`. */
  drawn(subnetId: string, ip: string): void {
    let set = this.drawing.get(subnetId);
    if (!set) this.drawing.set(subnetId, (set = new Set()));
    set.add(ip);
    this.subnets.get(subnetId)?.known.add(ip);
  }

  /** The claim of a drawn address is done (won or lost, someone holds it: it stays taken in the view). */
  settled(subnetId: string, ip: string): void {
    this.drawing.get(subnetId)?.delete(ip);
  }

  /** This process let the address go. */
  released(subnetId: string, ip: string): void {
    this.subnets.get(subnetId)?.known.delete(ip);
  }

  /** The subnet is gone: forget it. */
  forget(subnetId: string): void {
    this.subnets.delete(subnetId);
    this.drawing.delete(subnetId);
  }
}
