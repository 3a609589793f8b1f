import { SwiftError } from '../../../common/errors.ts';

/** The errno values the NBD protocol sends (doc/proto.md "Error values"), by number, and ETIMEDOUT. */
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'EPERM'],
  [5, 'EIO'],
  [12, 'ENOMEM'],
  [22, 'EINVAL'],
  [28, 'ENOSPC'],
  [75, 'EOVERFLOW'],
  [95, 'ENOTSUP'],
  [108, 'ESHUTDOWN'],
  [110, 'ETIMEDOUT'],
]);

export const NBD_EPERM = 1;
export const NBD_EIO = 5;
export const NBD_EINVAL = 22;
export const NBD_ENOTSUP = 95;
export const NBD_ESHUTDOWN = 108;
/** Not an NBD error value: the client's own, for a server that did not answer in time. */
export const NBD_ETIMEDOUT = 110;

/**
 * An NBD request or handshake failed. `errno` is the protocol's error value (EPERM=1, EIO=5,
 * EINVAL=22...; ESHUTDOWN=108 when the connection is gone, ETIMEDOUT=110 for a handshake
 * that never came), `errnoName` its name; the message
 * carries the server's own words when it sent any.
 */
export class NbdError extends SwiftError {
  readonly errno: number;
  readonly errnoName: string;

  constructor(errno: number, message: string, options?: { cause?: unknown }) {
    const name = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
    super('NBD_ERROR', `NBD ${name}: ${message}`, options);
    this.errno = errno;
    this.errnoName = name;
  }
}
