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
