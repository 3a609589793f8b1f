import { REVOKE_EVENT_TYPE } from '../common/token/revocation.ts';
import type { RevocationSource } from '../common/token/revocation-poller.ts';
import { LISTING_LIMIT, type SwiftClient, unexpected } from './swift-client.ts';

/** The identity service's system account as `swiftlet aio` and identity's config name it. */
export const DEFAULT_IDENTITY_ACCOUNT = 'AUTH_.identity';

/**
 * Revocation events as a service other than identity reads them (image, network, compute,
 * volume): the `revoke-events` container of the identity account, through the service's own
 * credential and the read ACL the identity service puts on that container for the services'
 * accounts (identity/revocation-readers.ts; docs/decisions.md, "Identity tokens"). An event is
 * read from every replica (`X-Newest`), as the record store does; the listing polled every
 * `revocation_poll_interval` asks one: a container's `X-Newest` answer is chosen by the
 * container's own `X-Put-Timestamp`, which its rows do not move, so asking all three listed
 * the same rows at three times the cost. A container not made yet (no event ever) lists as empty.
 */
export class SwiftRevocationSource implements RevocationSource {
  private readonly client: SwiftClient;
  private readonly account: string;

  constructor(client: SwiftClient, identityAccount = DEFAULT_IDENTITY_ACCOUNT) {
    this.client = client;
    this.account = identityAccount;
  }

  async keysAfter(marker: string): Promise<string[]> {
    const keys: string[] = [];
    for (let after = marker; ; ) {
      const page = await this.client.listContainer(REVOKE_EVENT_TYPE, { account: this.account, marker: after });
      if (!page) return keys;
      keys.push(...page.map((row) => row.name));
      if (page.length < LISTING_LIMIT) return keys;
      after = keys.at(-1) as string;
    }
  }

  async get(key: string): Promise<unknown> {
    const res = await this.client.request({ method: 'GET', account: this.account, container: REVOKE_EVENT_TYPE, object: key, headers: { 'x-newest': 'true' } });
    if (res.status === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200) throw await unexpected(res, 'GET', `${this.account}/${REVOKE_EVENT_TYPE}/${key}`);
    return res.body.json().catch(() => undefined);
  }
}
