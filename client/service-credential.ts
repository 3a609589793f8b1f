import type { Clock } from '../common/clock.ts';
import { type Schema, str } from '../common/config.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import { type Endpoint, parseEndpoint } from './endpoint.ts';
import { AuthFailedError } from './errors.ts';
import { type Renewable, RenewingSession, refreshAt } from './renewing-session.ts';

/**
 * The config keys of a service that calls another with its own Keystone user (Nova's
 * `[neutron]` auth section: `auth_url`, `username`, `password`, `project_name` and the domains),
 * read by `serviceCredentialOptions`. An empty password means no credential.
 */
export const serviceCredentialSchema = {
  identity_url: str('http://127.0.0.1:5000/v3', { nonEmpty: true, doc: "the identity service's v3 URL, where the service user authenticates" }),
  service_user: str('', { doc: "this service's own Keystone user (nova for compute), with the admin role on service_project" }),
  service_password: str('', { doc: "that user's password" }),
  service_project: str('service', { nonEmpty: true, doc: 'the project its token is scoped to' }),
  service_domain: str('Default', { nonEmpty: true, doc: 'the domain of the user and the project' }),
} as const satisfies Schema;

export interface ServiceCredentialOptions {
  /** Keystone v3's URL (`http://127.0.0.1:5000/v3`). */
  readonly identityUrl: string;
  readonly user: string;
  readonly password: string;
  readonly project: string;
  /** The domain (by name) of the user and of the project. */
  readonly domain: string;
}

/** `ServiceCredential`'s options from `serviceCredentialSchema`'s keys; undefined without a user and password. */
export function serviceCredentialOptions(c: { identity_url: string; service_user: string; service_password: string; service_project: string; service_domain: string }): ServiceCredentialOptions | undefined {
  if (c.service_user === '' || c.service_password === '') return undefined;
  return { identityUrl: c.identity_url, user: c.service_user, password: c.service_password, project: c.service_project, domain: c.service_domain };
}

interface Session extends Renewable {
  readonly token: string;
}

/**
 * A service's own Keystone token (keystoneauth's password plugin, as Nova's `[neutron]` and
 * `[service_user]` sections use it): `POST /v3/auth/tokens` with the user's name, password and
 * domain, scoped to its project; the token (`X-Subject-Token`) is shared by every caller and
 * fetched again before its `expires_at` or after a 401 (`invalidate`).
 */
export class ServiceCredential {
  private readonly options: ServiceCredentialOptions;
  private readonly tokens: Endpoint;
  private readonly http: BackendClient;
  private readonly clock: Clock;
  private readonly session: RenewingSession<Session>;

  constructor(options: ServiceCredentialOptions, deps: { http: BackendClient; clock: Clock }) {
    this.options = options;
    const base = parseEndpoint(options.identityUrl, 'identity_url');
    this.tokens = { node: base.node, path: `${base.path}/auth/tokens` };
    this.http = deps.http;
    this.clock = deps.clock;
    this.session = new RenewingSession(() => this.fetch(), deps.clock);
  }

  /** A token that is valid for a while yet. @throws {AuthFailedError} when identity refuses the credential */
  async token(): Promise<string> {
    return (await this.session.current()).token;
  }

  /** Forgets `token` (a service answered 401 to it), so the next `token()` authenticates again. */
  async invalidate(token: string): Promise<void> {
    const session = await this.session.current().catch(() => undefined);
    if (session?.token === token) await this.session.invalidate(session);
  }

  private async fetch(): Promise<Session> {
    const o = this.options;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: o.user, domain: { name: o.domain }, password: o.password } } },
        scope: { project: { name: o.project, domain: { name: o.domain } } },
      },
    };
    const res = await this.http.request(this.tokens.node, { method: 'POST', path: this.tokens.path, headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.status !== 201) throw new AuthFailedError(o.identityUrl, res.status, `the service user ${o.user} was refused`);
    const token = res.headers['x-subject-token'];
    let expiresAt = Number.NaN;
    try {
      expiresAt = Date.parse((JSON.parse(text) as { token?: { expires_at?: string } }).token?.expires_at ?? '');
    } catch {
      // Judged below.
    }
    if (!token || !Number.isFinite(expiresAt)) throw new AuthFailedError(o.identityUrl, res.status, 'no X-Subject-Token or expires_at in the answer');
    const now = this.clock.now();
    return { token, refreshAtMs: refreshAt(now, Math.max(0, expiresAt - now)) };
  }
}
