/**
 * Account ACLs (Swift's version-2 ACLs, `swift/common/middleware/acl.py`): a JSON object sent
 * as `X-Account-Access-Control` and kept in the account's `X-Account-Sysmeta-Core-Access-Control`
 * system metadata, e.g. `{"admin":["test2:tester2"],"read-only":["test:tester3"]}`.
 */

/** The account sysmeta key (after `x-account-sysmeta-`) the ACL is stored under. */
export const ACCOUNT_ACL_SYSMETA = 'core-access-control';

/** The levels tempauth grants, each a list of users or groups. */
export interface AccountAcls {
  readonly admin: readonly string[];
  readonly 'read-write': readonly string[];
  readonly 'read-only': readonly string[];
}

/**
 * Swift's `parse_acl_v2`: the JSON object of an ACL header, `{}` for an empty string, and
 * undefined for anything that is not a JSON object (or no header at all).
 */
export function parseAccountAcl(data: string | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined;
  if (data === '') return {};
  try {
    const parsed: unknown = JSON.parse(data);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Swift's `format_acl_v2`: Python's `json.dumps(acl, ensure_ascii=True, separators=(',', ':'),
 * sort_keys=True)`, so the header a client reads back is byte for byte what Swift sends.
 */
export function formatAccountAcl(acl: unknown): string {
  return toJson(acl).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Swift's `acls_from_account_info`: the account's ACLs from its sysmeta, or undefined when it
 * has none (no sysmeta, not a JSON object, or every level empty).
 */
export function accountAclsFromSysmeta(sysmeta: Readonly<Record<string, string>>): AccountAcls | undefined {
  const acl = parseAccountAcl(sysmeta[ACCOUNT_ACL_SYSMETA]);
  if (!acl) return undefined;
  const level = (key: string): string[] => (Array.isArray(acl[key]) ? (acl[key] as unknown[]).filter((v): v is string => typeof v === 'string') : []);
  const acls = { admin: level('admin'), 'read-write': level('read-write'), 'read-only': level('read-only') };
  if (acls.admin.length === 0 && acls['read-write'].length === 0 && acls['read-only'].length === 0) return undefined;
  return acls;
}

/** Compact JSON with every object's keys sorted (built by hand: JS objects list integer-like keys first). */
function toJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
}
