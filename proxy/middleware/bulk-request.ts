import { ConstraintError } from '../../common/errors.ts';
import { type ListingContentType, listingContentType } from '../../common/listing-format.ts';

/** The account a bulk request acts in: its version and account path segments, still encoded. */
export interface AccountPath {
  readonly version: string;
  readonly account: string;
}

/**
 * The answer format a bulk request asked for with `Accept` (Swift's `req.accept.best_match`
 * over plain text, JSON and XML): undefined when the header is malformed or accepts none of
 * them. `?format=` does not apply to bulk requests.
 */
export function bulkFormat(accept: string | undefined): ListingContentType | undefined {
  try {
    return listingContentType(undefined, accept);
  } catch (err) {
    if (err instanceof ConstraintError) return undefined;
    throw err;
  }
}

/** The version and account of `/v1/<account>[/...]` (any path below works, as in Swift); undefined otherwise. */
export function accountPath(path: string): AccountPath | undefined {
  const m = /^\/([^/]+)\/([^/]+)(?:\/.*)?$/.exec(path);
  return m ? { version: m[1] as string, account: m[2] as string } : undefined;
}
