import { SwiftError } from '../common/errors.ts';

/**
 * The cluster answered a public-API request with a status its caller did not expect (a 401
 * after a fresh token, a 5xx, a 4xx that is not part of the operation's contract).
 */
export class UnexpectedStatusError extends SwiftError {
  readonly status: number;
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, status: number, detail = '') {
    super('CLIENT_UNEXPECTED_STATUS', `${method} ${path}: ${status}${detail ? ` (${detail})` : ''}`);
    this.status = status;
    this.method = method;
    this.path = path;
  }
}

/** The auth endpoint refused the credentials or answered without a token and storage URL. */
export class AuthFailedError extends SwiftError {
  readonly status: number;

  constructor(authUrl: string, status: number, problem: string) {
    super('CLIENT_AUTH_FAILED', `auth at ${authUrl}: ${problem} (${status})`);
    this.status = status;
  }
}

/** An upload's body was larger than its limit (a quota, the size cap). */
export class UploadTooLargeError extends SwiftError {
  readonly limit: number;
  constructor(limit: number) {
    super('UPLOAD_TOO_LARGE', `upload exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

/** An upload's body did not match the MD5 or the size it was given. */
export class UploadMismatchError extends SwiftError {
  readonly what: 'md5' | 'size';
  constructor(what: 'md5' | 'size', detail: string) {
    super('UPLOAD_MISMATCH', `upload ${what} mismatch: ${detail}`);
    this.what = what;
  }
}
