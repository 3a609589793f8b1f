import type { Clock } from '../common/clock.ts';
import { HttpError } from '../common/http/http-error.ts';
import type { ServerResponse } from '../common/http/server.ts';
import type { Logger } from '../common/logger.ts';
import type { RevocationSource } from '../common/token/revocation-poller.ts';
import { REVOKE_EVENT_TYPE } from '../common/token/revocation.ts';
import { newTransId } from '../common/trans-id.ts';
import { discardBody, readWhole } from './middleware/subresponse.ts';
import type { ProxyHandler, ProxyRequest } from './request.ts';

/** The longest record or listing page read (records are small JSON objects; a page holds 10,000 names). */
const MAX_BODY = 4 << 20;

/** Revocation event keys per listing page (most polls find none, and stop at the first page). */
const KEYS_PAGE = 1000;

const USER_AGENT = 'proxy-server keystoneauth';

const EMPTY: AsyncIterable<Uint8Array> = {
  async *[Symbol.asyncIterator]() {
    // no body
  },
};

/**
 * The identity service's records as the proxy reads them for keystoneauth: straight from the
 * container and object servers through the proxy's own controllers (pre-authorized, as
 * Swift's `make_pre_authed_request`), so validating a token never asks the identity service.
 * Containers are record types and objects records (client/swift-record-store.ts's layout).
 * Record reads ask every replica (`X-Newest`), as the identity service's own do; the listing
 * polled every `revocation_poll_interval` asks one (see `keysAfter`).
 */
export class IdentityRecords implements RevocationSource {
  private readonly app: ProxyHandler;
  private readonly account: string;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(app: ProxyHandler, account: string, deps: { clock: Clock; logger: Logger }) {
    this.app = app;
    this.account = account;
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  /**
   * The revocation event keys after `marker`, every page of them; none when the container is not
   * there yet. One replica's listing, not `X-Newest`: a container's newest answer is chosen by
   * the container's own `X-Put-Timestamp`, which its rows do not move, so asking all three
   * (every 2 s, in every proxy worker) listed the same rows at three times the cost.
   */
  async keysAfter(marker: string): Promise<string[]> {
    const keys: string[] = [];
    let from = marker;
    for (;;) {
      const res = await this.send(`/${encodeURIComponent(REVOKE_EVENT_TYPE)}`, new URLSearchParams({ format: 'json', marker: from, limit: String(KEYS_PAGE) }), false);
      if (res.status === 404) return keys;
      if (res.status !== 200) throw new Error(`listing ${REVOKE_EVENT_TYPE}: ${res.status}`);
      const rows = JSON.parse(res.body.toString('utf8')) as { name: string }[];
      for (const row of rows) keys.push(row.name);
      // A short page is the last: no second listing to learn that nothing follows.
      if (rows.length < KEYS_PAGE) return keys;
      from = rows[rows.length - 1]?.name ?? from;
    }
  }

  /** The revocation event under `key` (undefined when it is gone). */
  get(key: string): Promise<unknown> {
    return this.record(REVOKE_EVENT_TYPE, key);
  }

  /** The record `type/key` as JSON; undefined when it is not there or not JSON. */
  async record(type: string, key: string): Promise<unknown> {
    const res = await this.send(`/${encodeURIComponent(type)}/${encodeURIComponent(key)}`, new URLSearchParams());
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`reading ${type}/${key}: ${res.status}`);
    try {
      return JSON.parse(res.body.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  private async send(path: string, query: URLSearchParams, newest = true): Promise<{ status: number; body: Buffer }> {
    const transId = newTransId(this.clock.now());
    const req: ProxyRequest = {
      method: 'GET',
      path: `/v1/${encodeURIComponent(this.account)}${path}`,
      query,
      headers: newest ? { 'x-newest': 'true', 'user-agent': USER_AGENT } : { 'user-agent': USER_AGENT },
      body: EMPTY,
      remoteAddress: '127.0.0.1',
      signal: new AbortController().signal,
      env: { transId, logger: this.logger.child({ txn: transId }), authorized: true, source: 'KS' },
    };
    let res: ServerResponse;
    try {
      res = await this.app(req);
    } catch (err) {
      if (err instanceof HttpError) return { status: err.status, body: Buffer.alloc(0) };
      throw err;
    }
    if (res.status !== 200) {
      await discardBody(res.body);
      return { status: res.status, body: Buffer.alloc(0) };
    }
    return { status: res.status, body: await readWhole(res.body, MAX_BODY) };
  }
}
