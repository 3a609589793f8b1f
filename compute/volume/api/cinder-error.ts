import { SwiftError } from '../../../common/errors.ts';

/**
 * An error the volume API answers with, as Cinder's `Fault` does: the status, and a body
 * `{"<faultName>": {"code": <status>, "message": ...}}` whose name follows the status
 * (cinder/api/openstack/wsgi.py `Fault._fault_names`; `computeFault` for any other).
 */
export class CinderError extends SwiftError {
  readonly status: number;
  /** Extra response headers (Cinder's QuotaError carries `Retry-After: 0`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super('CINDER_ERROR', message);
    this.status = status;
    this.headers = headers;
  }
}

const FAULT_NAMES: Readonly<Record<number, string>> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Cinder's fault body for `status` and `message` (a 413 also says `retryAfter` when it has one). */
export function faultBody(status: number, message: string, retryAfter?: string): Record<string, { code: number; message: string; retryAfter?: string }> {
  return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message, ...(status === 413 && retryAfter !== undefined ? { retryAfter } : {}) } };
}
