import { SwiftError } from '../../common/errors.ts';
import { RESOURCE_CLASSES, type ResourceName } from './host-state.ts';

/**
 * Nothing fits (Nova's NoValidHost: "No valid host was found. %(reason)s"); the API shows it
 * as the server's fault, with the server in ERROR.
 */
export class NoValidHost extends SwiftError {
  readonly reason: string;

  constructor(reason: string) {
    super('NO_VALID_HOST', `No valid host was found. ${reason}`);
    this.reason = reason;
  }
}

/** Nova's reason when fewer hosts pass than instances were asked for. */
export const NOT_ENOUGH_HOSTS = 'There are not enough hosts available.';

/** A claim no longer fits the host's current state (another boot took the room first). */
export class ClaimFailed extends SwiftError {
  readonly host: string;
  readonly resource: ResourceName | undefined;

  constructor(host: string, problem: string, resource?: ResourceName) {
    super('CLAIM_FAILED', `claim on ${host} failed: ${resource === undefined ? problem : `${RESOURCE_CLASSES[resource]} ${problem}`}`);
    this.host = host;
    this.resource = resource;
  }
}
