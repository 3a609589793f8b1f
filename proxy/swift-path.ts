import { InvalidPathError } from '../common/errors.ts';
import { decodePath } from '../common/http/backend-path.ts';

/** A client path `/v1/<account>[/<container>[/<object>]]`, decoded. */
export interface SwiftPath {
  readonly version: string;
  readonly account: string;
  readonly container?: string;
  readonly object?: string;
}

/**
 * Parses `/v1/a/c/o` as Swift's proxy does: the path is decoded first (412 for bad UTF-8 or
 * NUL), then split; object names keep their slashes.
 * @throws {ConstraintError} 412 for bad UTF-8; {InvalidPathError} for a path without an account.
 */
export function parseSwiftPath(rawPath: string): SwiftPath {
  const path = decodePath(rawPath);
  const [version, account, container, ...rest] = path.slice(1).split('/');
  if (!path.startsWith('/') || !version || account === undefined || account === '') throw new InvalidPathError(rawPath, 'expected /<version>/<account>[/<container>[/<object>]]');
  const object = rest.length > 0 ? rest.join('/') : undefined;
  if (container === '' && object !== undefined) throw new InvalidPathError(rawPath, 'empty container name');
  return {
    version,
    account,
    ...(container !== undefined && container !== '' ? { container } : {}),
    ...(object !== undefined && object !== '' ? { object } : {}),
  };
}
