import type { Clock } from '../common/clock.ts';
import type { BackendBody, BackendClient, BackendResponse, BackendUpload } from '../common/http/backend-client.ts';
import { parseEndpoint } from './endpoint.ts';
import { UnexpectedStatusError } from './errors.ts';
import { V1Auth, type V1Session } from './v1-auth.ts';

/**
 * The public-API client the services use (DESIGN.md, "The services on the cluster"): Swift's
 * v1 API on one account, authenticated with a service credential, sent through the project's
 * one outbound seam (`BackendClient`; the proxy is the node). Every request carries the
 * session's token; a 401 fetches a new one and sends the request once more when its body can
 * be sent again (a stream's 401 is returned, its token dropped: the caller may send it again).
 * Bodies may be streams (`BackendBody`), so segmented uploads and streamed downloads build on
 * `request` as they come.
 */
/**
 * Someone else's token and their storage URL, as python-swiftclient's `preauthtoken` and
 * `preauthurl` (what Cinder's per_user backups use: the user's own token on their account).
 * Nothing renews it: a 401 is the caller's answer.
 */
export interface PreauthOptions {
  /** `http://proxy:8080/v1/AUTH_<project>`. */
  readonly preauthUrl: string;
  readonly preauthToken: string;
}

export interface SwiftClientOptions {
  /** v1 auth URL, `http://proxy:8080/auth/v1.0`. */
  readonly authUrl: string;
  /** `account:user`. */
  readonly user: string;
  readonly key: string;
  /**
   * Another account than the credential's own (`AUTH_<project>`): requests go to it under the
   * same storage URL. For a reseller admin credential writing into its users' accounts (the
   * volume service's backups).
   */
  readonly account?: string;
}

export interface SwiftRequest {
  readonly method: string;
  /**
   * Another account of the same cluster (`AUTH_.identity`), reached at the session's storage
   * URL with that account in place of ours: what an ACL there lets this credential do.
   */
  readonly account?: string;
  readonly container?: string;
  readonly object?: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: BackendBody;
  readonly signal?: AbortSignal;
}

/** One row of a JSON container listing. */
export interface ContainerEntry {
  readonly name: string;
  readonly hash: string;
  readonly bytes: number;
  readonly content_type: string;
  readonly last_modified: string;
}

export interface ListingOptions {
  /** Another account's container (see `SwiftRequest.account`). */
  readonly account?: string;
  readonly prefix?: string;
  readonly marker?: string;
  readonly endMarker?: string;
  /** At most this many rows (Swift caps a page at 10,000). */
  readonly limit?: number;
  /** Ask every replica and take the newest listing (`X-Newest`). */
  readonly newest?: boolean;
}

/** Swift's container listing limit: a page holds at most this many rows. */
export const LISTING_LIMIT = 10_000;

/** A session that is the one it was given. */
class PreauthSession {
  private readonly session: V1Session;

  constructor(options: PreauthOptions) {
    this.session = { token: options.preauthToken, storage: parseEndpoint(options.preauthUrl, 'preauth url'), refreshAtMs: Number.POSITIVE_INFINITY };
  }

  async current(): Promise<V1Session> {
    return this.session;
  }

  async invalidate(): Promise<void> {}
}

export class SwiftClient {
  private readonly auth: { current(): Promise<V1Session>; invalidate(session: V1Session): Promise<void> };
  private readonly http: BackendClient;
  private readonly account: string | undefined;

  /** It fetches its own tokens, so a 401 can be answered with a new one (not so with someone else's token). */
  readonly renewsTokens: boolean;

  constructor(options: SwiftClientOptions | PreauthOptions, deps: { http: BackendClient; clock: Clock }) {
    this.renewsTokens = !('preauthToken' in options);
    if ('preauthToken' in options) {
      this.auth = new PreauthSession(options);
      this.account = undefined;
    } else {
      this.auth = new V1Auth(options, deps);
      this.account = options.account;
    }
    this.http = deps.http;
  }

  /**
   * One request on the account (`container`/`object` relative to the storage URL); any status
   * is returned. @throws {AuthFailedError} when the credential is refused, {BackendError} when
   * the proxy did not answer.
   */
  async request(req: SwiftRequest): Promise<BackendResponse> {
    const replayable = req.body === undefined || req.body === null || typeof req.body === 'string' || req.body instanceof Uint8Array;
    for (let attempt = 0; ; attempt++) {
      const session = await this.auth.current();
      const res = await this.http.request(session.storage.node, {
        method: req.method,
        path: this.pathOf(session, req),
        query: queryString(req.query),
        headers: { ...req.headers, 'x-auth-token': session.token },
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (res.status !== 401 || attempt > 0) return res;
      // The token is done for either way: the caller that sends a stream again gets a new one.
      await this.auth.invalidate(session);
      if (!replayable) return res;
      await res.body.dump();
    }
  }

  /**
   * Starts a request whose body the caller writes piece by piece, each write saying when the
   * piece has left (`BackendUpload`, see `streamedPut`); undefined when the seam has no
   * `upload` (then `request` with a stream body). A 401 is returned, not retried: the body is
   * written once; its token is dropped, so a caller that can make the body again and sends it
   * once more goes with a new one.
   */
  async upload(req: Omit<SwiftRequest, 'body'>): Promise<BackendUpload | undefined> {
    if (!this.http.upload) return undefined;
    const session = await this.auth.current();
    const upload = this.http.upload(session.storage.node, {
      method: req.method,
      path: this.pathOf(session, req),
      query: queryString(req.query),
      headers: { ...req.headers, 'x-auth-token': session.token },
      ...(req.signal ? { signal: req.signal } : {}),
    });
    const response = upload.response.then(async (res) => {
      if (res.status === 401) await this.auth.invalidate(session);
      return res;
    });
    // The same upload, its answer seen first (a promise left unobserved is the caller's as before).
    response.catch(() => undefined);
    return { write: (chunk) => upload.write(chunk), end: () => upload.end(), destroy: (reason) => upload.destroy(reason), response };
  }

  /** The request's own account, else this client's (`SwiftClientOptions.account`), else the credential's. */
  private pathOf(session: V1Session, req: Pick<SwiftRequest, 'account' | 'container' | 'object'>): string {
    return accountPath(session.storage.path, req.account ?? this.account) + objectPath(req.container, req.object);
  }

  /**
   * One page of a container listing (JSON rows), or `undefined` when the container does not
   * exist. @throws {UnexpectedStatusError} for any other failure.
   */
  async listContainer(container: string, options: ListingOptions = {}): Promise<ContainerEntry[] | undefined> {
    const res = await this.request({
      method: 'GET',
      ...(options.account !== undefined ? { account: options.account } : {}),
      container,
      query: { format: 'json', prefix: options.prefix, marker: options.marker, end_marker: options.endMarker, limit: options.limit },
      headers: options.newest ? { 'x-newest': 'true' } : {},
    });
    if (res.status === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.status === 204) {
      await res.body.dump();
      return [];
    }
    if (res.status !== 200) throw await unexpected(res, 'GET', container);
    return (await res.body.json()) as ContainerEntry[];
  }

  /** Every row under `prefix`, page by page. */
  async *listAll(container: string, options: Omit<ListingOptions, 'marker' | 'limit'> = {}): AsyncGenerator<ContainerEntry> {
    let marker: string | undefined;
    for (;;) {
      const page = await this.listContainer(container, { ...options, ...(marker !== undefined ? { marker } : {}), limit: LISTING_LIMIT });
      if (!page || page.length === 0) return;
      yield* page;
      if (page.length < LISTING_LIMIT) return;
      marker = (page.at(-1) as ContainerEntry).name;
    }
  }

  /** Creates the container unless a HEAD finds it. @throws {UnexpectedStatusError} */
  async ensureContainer(container: string): Promise<void> {
    const res = await this.request({ method: 'HEAD', container });
    await res.body.dump();
    if (res.status === 404) await this.putContainer(container);
  }

  /** Creates the container (no error when it exists). @throws {UnexpectedStatusError} */
  async putContainer(container: string, headers: Readonly<Record<string, string>> = {}): Promise<void> {
    const res = await this.request({ method: 'PUT', container, headers });
    await res.body.dump();
    if (res.status !== 201 && res.status !== 202) throw new UnexpectedStatusError('PUT', container, res.status);
  }
}

/** The storage path `/v1/AUTH_x` with its account replaced by `account` (when given). */
function accountPath(storagePath: string, account: string | undefined): string {
  if (account === undefined) return storagePath;
  return `${storagePath.slice(0, storagePath.lastIndexOf('/'))}/${encodeURIComponent(account)}`;
}

/** `/container/object`, percent-encoded; `/` inside an object name stays a `/`. */
export function objectPath(container?: string, object?: string): string {
  if (container === undefined) return '';
  const c = `/${encodeURIComponent(container)}`;
  return object === undefined ? c : `${c}/${encodeURIComponent(object).replace(/%2F/g, '/')}`;
}

function queryString(query: SwiftRequest['query']): string | undefined {
  if (!query) return undefined;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === '' ? undefined : s;
}

/** An `UnexpectedStatusError` carrying the start of the answer's body, for the log. */
export async function unexpected(res: BackendResponse, method: string, path: string): Promise<UnexpectedStatusError> {
  const text = await res.body.text().catch(() => '');
  return new UnexpectedStatusError(method, path, res.status, text.slice(0, 200));
}
