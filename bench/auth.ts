import { Agent, request } from 'undici';
import { BenchError } from './bench-error.ts';
import type { SwiftEndpoint } from './swift-client.ts';

/**
 * Getting a storage URL and token from an endpoint's auth service, the two ways Swift
 * deployments offer:
 *
 * - v1 (tempauth, swauth, Swift's own): `GET <auth_url>` with `X-Auth-User` and `X-Auth-Key`;
 *   the answer's `X-Storage-Url` and `X-Auth-Token` headers are the endpoint.
 * - Keystone v3: `POST <auth_url>/auth/tokens` with the password method scoped to a project;
 *   the token is the `X-Subject-Token` header and the storage URL the `object-store` endpoint
 *   of the wanted interface (and region) in the token's catalog.
 *
 * Or both are given directly (`--storage-url` and `--token`), and no auth request is made.
 */
export type Credentials =
  | { readonly version: 1; readonly authUrl: string; readonly user: string; readonly key: string }
  | {
      readonly version: 3;
      readonly authUrl: string;
      readonly user: string;
      readonly password: string;
      readonly project: string;
      /** Domain name of both user and project. */
      readonly domain: string;
      readonly region?: string;
      readonly interface?: string;
    }
  | { readonly version: 'token'; readonly storageUrl: string; readonly token: string };

export interface AuthOptions {
  readonly timeoutMs?: number;
  readonly insecure?: boolean;
}

/**
 * Authenticates and returns the storage URL and token.
 * @throws {BenchError} `BENCH_AUTH_FAILED` naming the URL and what went wrong.
 */
export async function authenticate(creds: Credentials, options: AuthOptions = {}): Promise<SwiftEndpoint> {
  if (creds.version === 'token') return { storageUrl: creds.storageUrl, token: creds.token };
  return creds.version === 1 ? authV1(creds, options) : authV3(creds, options);
}

async function send(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }, options: AuthOptions): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const dispatcher = options.insecure ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  try {
    const res = await request(url, {
      ...init,
      headersTimeout: options.timeoutMs ?? 30_000,
      bodyTimeout: options.timeoutMs ?? 30_000,
      ...(dispatcher ? { dispatcher } : {}),
    });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    throw new BenchError('BENCH_AUTH_FAILED', `auth ${init.method} ${url}: no answer (${e.cause?.code ?? e.code ?? e.message})`, { cause: err });
  } finally {
    await dispatcher?.close();
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function authV1(creds: Extract<Credentials, { version: 1 }>, options: AuthOptions): Promise<SwiftEndpoint> {
  const res = await send(creds.authUrl, { method: 'GET', headers: { 'x-auth-user': creds.user, 'x-auth-key': creds.key } }, options);
  if (res.status < 200 || res.status >= 300) throw new BenchError('BENCH_AUTH_FAILED', `auth GET ${creds.authUrl} as ${JSON.stringify(creds.user)}: status ${res.status}${res.status === 401 ? ' (wrong user or key?)' : ''}`);
  const storageUrl = header(res.headers, 'x-storage-url');
  const token = header(res.headers, 'x-auth-token') ?? header(res.headers, 'x-storage-token');
  if (!storageUrl || !token) throw new BenchError('BENCH_AUTH_FAILED', `auth GET ${creds.authUrl}: status ${res.status} but no X-Storage-Url or X-Auth-Token header (is this a v1 auth URL? for Keystone use --auth-version 3)`);
  return { storageUrl, token };
}

/** `http://ks:5000/v3` or `http://ks:5000` -> `http://ks:5000/v3/auth/tokens`. */
export function keystoneTokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  if (base.endsWith('/auth/tokens')) return base;
  if (/\/v3$/.test(base)) return `${base}/auth/tokens`;
  return `${base}/v3/auth/tokens`;
}

/** The body of a Keystone v3 password request scoped to a project, both named within `domain`. */
export function keystonePasswordBody(creds: Extract<Credentials, { version: 3 }>): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { name: creds.user, domain: { name: creds.domain }, password: creds.password } } },
      scope: { project: { name: creds.project, domain: { name: creds.domain } } },
    },
  });
}

interface CatalogEntry {
  type?: string;
  endpoints?: { interface?: string; region?: string; region_id?: string; url?: string }[];
}

/**
 * The `object-store` URL in a Keystone v3 token body for an interface (default public) and,
 * if given, a region.
 * @throws {BenchError} listing what the catalog does offer when nothing matches.
 */
export function objectStoreUrl(tokenBody: unknown, wantInterface = 'public', region?: string): string {
  const catalog = (tokenBody as { token?: { catalog?: CatalogEntry[] } } | null)?.token?.catalog;
  if (!Array.isArray(catalog)) throw new BenchError('BENCH_AUTH_FAILED', 'Keystone token has no catalog (is the project scope right?)');
  const stores = catalog.filter((e) => e.type === 'object-store');
  if (stores.length === 0) throw new BenchError('BENCH_AUTH_FAILED', `Keystone catalog has no object-store service (types: ${catalog.map((e) => e.type).join(', ') || 'none'})`);
  const endpoints = stores.flatMap((s) => s.endpoints ?? []);
  const match = endpoints.find((e) => e.interface === wantInterface && (region === undefined || e.region === region || e.region_id === region) && typeof e.url === 'string');
  if (!match?.url) {
    const offered = endpoints.map((e) => `${e.interface}${e.region ? `@${e.region}` : ''}`).join(', ') || 'none';
    throw new BenchError('BENCH_AUTH_FAILED', `Keystone catalog has no object-store endpoint for interface ${JSON.stringify(wantInterface)}${region ? ` in region ${JSON.stringify(region)}` : ''} (offered: ${offered})`);
  }
  return match.url;
}

async function authV3(creds: Extract<Credentials, { version: 3 }>, options: AuthOptions): Promise<SwiftEndpoint> {
  const url = keystoneTokensUrl(creds.authUrl);
  const res = await send(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: keystonePasswordBody(creds) }, options);
  if (res.status !== 201 && res.status !== 200) {
    throw new BenchError('BENCH_AUTH_FAILED', `Keystone POST ${url} as ${JSON.stringify(creds.user)} in project ${JSON.stringify(creds.project)}: status ${res.status}${res.status === 401 ? ' (wrong user, password, project or domain?)' : ''}`);
  }
  const token = header(res.headers, 'x-subject-token');
  if (!token) throw new BenchError('BENCH_AUTH_FAILED', `Keystone POST ${url}: status ${res.status} but no X-Subject-Token header`);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new BenchError('BENCH_AUTH_FAILED', `Keystone POST ${url}: the token body is not JSON`);
  }
  return { storageUrl: objectStoreUrl(body, creds.interface ?? 'public', creds.region), token };
}
