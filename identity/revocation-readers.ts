import { REVOKE_EVENT_TYPE } from '../common/token/revocation.ts';
import type { SwiftClient } from '../client/swift-client.ts';

/**
 * Lets the other services' accounts read the revocation events (and nothing else of identity's
 * account): the `revoke-events` container gets a read ACL naming those accounts (`.image`,
 * `.network`, ...: tempauth gives every user of an account the account's name as a group).
 * Their `RevocationPoller`s read it through `SwiftRevocationSource`. Run at every start, so a
 * reader added to the config gets in; the container is made here if no event made it yet.
 */
export async function grantRevocationReaders(client: SwiftClient, readers: readonly string[]): Promise<void> {
  await client.putContainer(REVOKE_EVENT_TYPE, { 'x-container-read': readers.join(',') });
}

/** `revocation_readers` as the config gives it: account names separated by commas or spaces. */
export function parseRevocationReaders(value: string): string[] {
  return value.split(/[\s,]+/).filter((name) => name !== '');
}
