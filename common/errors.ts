/**
 * Domain errors. Every error the cluster raises on purpose is a `SwiftError` with a stable
 * `code` that logs, tests and the server edge can match on; the message is for people.
 * HTTP statuses are not chosen here: each `server.ts` maps these to `HttpError`s at its edge
 * (see `common/http/http-error.ts`).
 */
export class SwiftError extends Error {
  /** Stable, machine-readable identifier, e.g. `CONFIG_INVALID`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A config file or value is wrong; `key` is `section.key` and `value` what was given. */
export class ConfigError extends SwiftError {
  readonly key: string;
  readonly value: unknown;

  constructor(key: string, value: unknown, problem: string, options?: { cause?: unknown }) {
    const shown = value === undefined ? '' : ` = ${JSON.stringify(value)}`;
    super('CONFIG_INVALID', `config ${key}${shown}: ${problem}`, options);
    this.key = key;
    this.value = value;
  }
}

/** A timestamp could not be parsed or is out of range. */
export class TimestampError extends SwiftError {
  readonly value: unknown;

  constructor(value: unknown, problem: string) {
    super('TIMESTAMP_INVALID', `invalid timestamp ${JSON.stringify(String(value))}: ${problem}`);
    this.value = value;
  }
}

/**
 * A request breaks one of Swift's constraints (names, metadata, sizes). `kind` tells the edge
 * which status applies: `bad_request` (400), `too_large` (413), `length_required` (411),
 * `not_acceptable` (406), `precondition` (412), `not_implemented` (501).
 */
export type ConstraintKind = 'bad_request' | 'too_large' | 'length_required' | 'not_acceptable' | 'precondition' | 'not_implemented';

export class ConstraintError extends SwiftError {
  readonly kind: ConstraintKind;

  constructor(kind: ConstraintKind, message: string) {
    super('CONSTRAINT_VIOLATION', message);
    this.kind = kind;
  }
}

/** A path could not be split into the parts a server expects. */
export class InvalidPathError extends SwiftError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('PATH_INVALID', `invalid path ${JSON.stringify(path)}: ${problem}`);
    this.path = path;
  }
}

/** An outbound request to a storage node failed before it produced a status. */
export class BackendError extends SwiftError {
  readonly node: string;

  constructor(code: 'BACKEND_CONNECT' | 'BACKEND_TIMEOUT' | 'BACKEND_ABORTED' | 'BACKEND_IO', node: string, message: string, options?: { cause?: unknown }) {
    super(code, `${node}: ${message}`, options);
    this.node = node;
  }
}

/** A device is missing, not a directory, or (with mount_check) not mounted: Swift answers 507. */
export class DeviceUnavailableError extends SwiftError {
  readonly device: string;

  constructor(device: string, problem: string) {
    super('DEVICE_UNAVAILABLE', `device ${JSON.stringify(device)} is unavailable: ${problem}`);
    this.device = device;
  }
}
