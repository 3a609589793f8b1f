import { SwiftError } from '../common/errors.ts';

/**
 * Keystone's errors (keystone/exception.py): each has a status, a title and a message, and
 * reaches the client as `{"error": {"code", "message", "title"}}` (identity/server.ts is the
 * only place that turns them into responses). The messages are Keystone's own.
 */
export class KeystoneError extends SwiftError {
  readonly status: number;
  readonly title: string;

  constructor(status: number, title: string, message: string) {
    super(`KEYSTONE_${status}`, message);
    this.status = status;
    this.title = title;
  }
}

/** 400: the body or query breaks the API's schema or rules. */
export function validationError(message: string): KeystoneError {
  return new KeystoneError(400, 'Bad Request', message);
}

/**
 * 401, always with the same message: a wrong password, an unknown user, a disabled user or
 * project and a bad token all look alike to the caller (Keystone gives no hint which).
 */
export function unauthorized(): KeystoneError {
  return new KeystoneError(401, 'Unauthorized', 'The request you have made requires authentication.');
}

/** 403 for a policy refusal, naming the rule as Keystone does (`identity:list_users`). */
export function forbiddenAction(action: string): KeystoneError {
  return new KeystoneError(403, 'Forbidden', `You are not authorized to perform the requested action: ${action}.`);
}

/** 403 with Keystone's own message (delete an enabled domain, update an immutable role, ...). */
export function forbidden(message: string): KeystoneError {
  return new KeystoneError(403, 'Forbidden', message);
}

/** 404 "Could not find user: <id>." */
export function notFound(kind: string, id: string): KeystoneError {
  return new KeystoneError(404, 'Not Found', `Could not find ${kind}: ${id}.`);
}

/** 404 with Keystone's own message. */
export function notFoundMessage(message: string): KeystoneError {
  return new KeystoneError(404, 'Not Found', message);
}

/** 409 "Conflict occurred attempting to store <kind> - <details>." */
export function conflict(kind: string, details: string): KeystoneError {
  return new KeystoneError(409, 'Conflict', `Conflict occurred attempting to store ${kind} - ${details}`);
}
