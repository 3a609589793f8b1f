import { SwiftError } from '../common/errors.ts';

/**
 * Nova's API faults (nova/api/openstack/wsgi.py `Fault`): a status and a message, answered as
 * `{"<name>": {"code", "message"}}` where the name follows the status (`itemNotFound`,
 * `badRequest`, `conflictingRequest`, ...). compute/server.ts is the only place that turns them
 * into responses. The messages are Nova's own (nova/exception.py).
 */
export class NovaError extends SwiftError {
  readonly status: number;
  /** Extra response headers (none yet but the version headers the edge adds). */
  constructor(status: number, message: string) {
    super(`NOVA_${status}`, message);
    this.status = status;
  }
}

/** Nova's `Fault._fault_names`. */
export const FAULT_NAMES: Readonly<Record<number, string>> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function badRequest(message: string): NovaError {
  return new NovaError(400, message);
}

export function notFound(message: string): NovaError {
  return new NovaError(404, message);
}

export function conflict(message: string): NovaError {
  return new NovaError(409, message);
}

/** `PolicyNotAuthorized`: "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed." */
export function policyForbidden(action: string): NovaError {
  return new NovaError(403, `Policy doesn't allow ${action} to be performed.`);
}

/** `OverQuota` and its kin are 403 in Nova's API. */
export function overQuota(message: string): NovaError {
  return new NovaError(403, message);
}

/** Nova's `InstanceInvalidState`, as 409: "Cannot 'stop' instance <uuid> while it is in vm_state stopped". */
export function invalidState(uuid: string, action: string, attr: string, state: string): NovaError {
  return new NovaError(409, `Cannot '${action}' instance ${uuid} while it is in ${attr} ${state}`);
}
