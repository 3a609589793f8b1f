import type { Clock } from '../common/clock.ts';

/** A credential's session: whatever it holds, and when a new one is fetched. */
export interface Renewable {
  /** Wall-clock ms from which a new session is fetched: before the token expires. */
  readonly refreshAtMs: number;
}

/** Refresh this long before a token's own expiry (or at half its life, if that is sooner), so a request never races it. */
const EXPIRY_MARGIN_MS = 60_000;

/** When a session whose token lives `lifeMs` from `nowMs` is fetched again. */
export function refreshAt(nowMs: number, lifeMs: number): number {
  return nowMs + lifeMs - Math.min(EXPIRY_MARGIN_MS, lifeMs / 2);
}

/**
 * One session shared by every caller of a service's own credential (v1 auth at the proxy,
 * password auth at identity): fetched on first use, again once it reaches `refreshAtMs` or
 * after `invalidate` (a request refused with 401). Concurrent callers share one fetch; a failed
 * fetch is not kept, so the next call tries again.
 */
export class RenewingSession<S extends Renewable> {
  private readonly fetch: () => Promise<S>;
  private readonly clock: Clock;
  private session: Promise<S> | undefined;

  constructor(fetch: () => Promise<S>, clock: Clock) {
    this.fetch = fetch;
    this.clock = clock;
  }

  /** A valid session, fetched if there is none or it is about to expire. @throws what `fetch` throws */
  async current(): Promise<S> {
    const pending = (this.session ??= this.fetch());
    let session: S;
    try {
      session = await pending;
    } catch (err) {
      if (this.session === pending) this.session = undefined;
      throw err;
    }
    if (session.refreshAtMs > this.clock.now()) return session;
    if (this.session === pending) this.session = this.fetch();
    return this.current();
  }

  /** Drops `session` (refused with 401), so the next `current()` fetches again. */
  async invalidate(session: S): Promise<void> {
    const pending = this.session;
    if (pending && (await pending.catch(() => undefined)) === session && this.session === pending) this.session = undefined;
  }
}
