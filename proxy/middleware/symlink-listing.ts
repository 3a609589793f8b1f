import type { ServerResponse } from '../../common/http/server.ts';
import type { SwiftPath } from '../swift-path.ts';
import type { ProxyHandler, ProxyRequest } from '../request.ts';
import { parseHeaderParams } from './header-params.ts';
import { type ListingRow, rewriteListing } from './listing-body.ts';
import { isSuccess } from './subresponse.ts';
import { quotePath } from './url-quote.ts';

/**
 * A container listing with links in it (Swift's `SymlinkContainerContext`): a link's row
 * carries its target in its etag's parameters (`<md5>; symlink_target=c/o;
 * symlink_target_account=a; symlink_target_etag=e; symlink_target_bytes=n`); they become
 * `symlink_path` (`/v1/<account>/<container>/<object>`), and for a static link
 * `symlink_etag` and `symlink_bytes`. Other parameters stay on the hash.
 */
export async function symlinkContainerListing(next: ProxyHandler, req: ProxyRequest, path: SwiftPath): Promise<ServerResponse> {
  const response = await next(req);
  if (!isSuccess(response.status)) return response;
  return rewriteListing(response, (rows) => rows.map((row) => linkRow(row, path.version, quotePath(path.account))), 'symlink_target=');
}

/** One row, its link parameters taken out of the hash (Swift's `_extract_symlink_path_json`). */
export function linkRow(row: ListingRow, version: string, account: string): ListingRow {
  const hash = row['hash'];
  if (typeof hash !== 'string' || !hash.includes(';')) return row;
  const { value, params } = parseHeaderParams(hash);
  const out: ListingRow = { ...row };
  let rest = value;
  let target: string | undefined;
  let targetAccount = account;
  for (const [key, param] of params) {
    if (key === 'symlink_target') target = param;
    else if (key === 'symlink_target_account') targetAccount = param;
    else if (key === 'symlink_target_etag') out['symlink_etag'] = param;
    else if (key === 'symlink_target_bytes') out['symlink_bytes'] = Number.parseInt(param, 10);
    else rest += `; ${key}=${param}`;
  }
  out['hash'] = rest;
  if (target) out['symlink_path'] = `/${version}/${targetAccount}/${target}`;
  return out;
}
