import type { Clock } from '../common/clock.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import { type Endpoint, parseEndpoint } from './endpoint.ts';
import { AuthFailedError } from './errors.ts';
import { type Renewable, RenewingSession, refreshAt } from './renewing-session.ts';

/** What a v1 auth gives: a token for `X-Auth-Token` and the account's storage URL. */
export interface V1Session extends Renewable {
  readonly token: string;
  readonly storage: Endpoint;
}

/**
 * v1 auth (`GET /auth/v1.0` with `X-Auth-User`/`X-Auth-Key`, Swift's tempauth), for a service's
 * own credential: one session is shared by every request and fetched again when it nears its
 * expiry or a request is refused with 401 (`invalidate`). Concurrent callers share one fetch.
 */
export class V1Auth {
  private readonly auth: Endpoint;
  private readonly authUrl: string;
  private readonly user: string;
  private readonly key: string;
  private readonly http: BackendClient;
  private readonly clock: Clock;
  private readonly session: RenewingSession<V1Session>;

  constructor(options: { authUrl: string; user: string; key: string }, deps: { http: BackendClient; clock: Clock }) {
    this.authUrl = options.authUrl;
    this.auth = parseEndpoint(options.authUrl, 'auth_url');
    this.user = options.user;
    this.key = options.key;
    this.http = deps.http;
    this.clock = deps.clock;
    this.session = new RenewingSession(() => this.fetch(), deps.clock);
  }

  /** A valid session, fetched if there is none or it is about to expire. @throws {AuthFailedError} */
  current(): Promise<V1Session> {
    return this.session.current();
  }

  /** Drops `session` (refused with 401), so the next `current()` authenticates again. */
  invalidate(session: V1Session): Promise<void> {
    return this.session.invalidate(session);
  }

  private async fetch(): Promise<V1Session> {
    const res = await this.http.request(this.auth.node, { method: 'GET', path: this.auth.path, headers: { 'x-auth-user': this.user, 'x-auth-key': this.key } });
    await res.body.dump();
    if (res.status < 200 || res.status >= 300) throw new AuthFailedError(this.authUrl, res.status, 'credentials refused');
    const token = res.headers['x-auth-token'];
    const url = res.headers['x-storage-url'];
    if (!token || !url) throw new AuthFailedError(this.authUrl, res.status, 'no X-Auth-Token or X-Storage-Url in the answer');
    const seconds = Number(res.headers['x-auth-token-expires'] ?? 'NaN');
    const life = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 3_600_000;
    return { token, storage: parseEndpoint(url, 'X-Storage-Url'), refreshAtMs: refreshAt(this.clock.now(), life) };
  }
}
