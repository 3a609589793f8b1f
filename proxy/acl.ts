import { ConstraintError } from '../common/errors.ts';
import { pythonRepr } from './python-repr.ts';

/**
 * Container ACLs as Swift parses them (`swift/common/middleware/acl.py`):
 * `X-Container-Read: .r:*,.rlistings,test:tester3,.r:-bad.example.com`.
 * `.r:` (or `.ref:`, `.referer:`, `.referrer:`) entries are referrer rules (`*`, a host,
 * `.domain` for its subdomains, `-host` to exclude); `.rlistings` allows listing to referrers;
 * anything else is a user (`account:user`) or group.
 */
export interface ParsedAcl {
  readonly referrers: readonly string[];
  readonly groups: readonly string[];
}

const REFERRER_DESIGNATORS = ['.r', '.ref', '.referer', '.referrer'];

/**
 * Swift's `clean_acl`: the ACL of `X-Container-Read` or `-Write` (`name`) as it is stored:
 * items trimmed, empty ones dropped, referrer designators shortened to `.r:`, `*.host` to
 * `.host`.
 * @throws {ConstraintError} 400, with Swift's message, for a referrer in a write ACL, a
 * referrer rule with no host (`.r:`, `.r:-`), or an unknown `.designator:`.
 */
export function cleanAcl(name: string, value: string): string {
  const write = name.toLowerCase().includes('write');
  const values: string[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    if (colon === -1) {
      values.push(item);
      continue;
    }
    const first = item.slice(0, colon).trim();
    let second = item.slice(colon + 1).trim();
    if (!first.startsWith('.')) {
      values.push(item);
    } else if (REFERRER_DESIGNATORS.includes(first)) {
      if (write) throw new ConstraintError('bad_request', `Referrers not allowed in write ACL: ${pythonRepr(item)}`);
      const negate = second.startsWith('-');
      if (negate) second = second.slice(1).trim();
      if (second !== '*' && second.startsWith('*')) second = second.slice(1).trim();
      if (second === '' || second === '.') throw new ConstraintError('bad_request', `No host/domain value after referrer designation in ACL: ${pythonRepr(item)}`);
      values.push(`.r:${negate ? '-' : ''}${second}`);
    } else {
      throw new ConstraintError('bad_request', `Unknown designator ${pythonRepr(first)} in ACL: ${pythonRepr(item)}`);
    }
  }
  return values.join(',');
}

/**
 * Parses a stored ACL. Values stored before they were cleaned are read leniently (designators
 * in any spelling, spaces), as `cleanAcl` would have written them.
 */
export function parseAcl(acl: string | undefined): ParsedAcl {
  const referrers: string[] = [];
  const groups: string[] = [];
  for (const raw of (acl ?? '').split(',')) {
    const value = raw.trim();
    if (value === '') continue;
    const colon = value.indexOf(':');
    const head = colon === -1 ? '' : value.slice(0, colon).trim().toLowerCase();
    if (REFERRER_DESIGNATORS.includes(head)) {
      let host = value.slice(colon + 1).trim();
      const negate = host.startsWith('-');
      if (negate) host = host.slice(1).trim();
      // `*.example.com` means `.example.com`, as Swift's clean_acl stores it; read it so here
      // too, for ACLs stored before they were cleaned.
      if (host !== '*' && host.startsWith('*')) host = host.slice(1).trim();
      if (negate) host = `-${host}`;
      if (host !== '' && host !== '-') referrers.push(host);
    } else {
      groups.push(unquote(value));
    }
  }
  return { referrers, groups };
}

/** Swift's `referrer_allowed`: the last matching rule wins; a `-` rule excludes. */
export function referrerAllowed(referer: string | undefined, rules: readonly string[]): boolean {
  let allow = false;
  if (rules.length === 0) return false;
  let host = 'unknown';
  try {
    host = new URL(referer ?? '').hostname || 'unknown';
  } catch {
    // not a URL: "unknown", which only * matches
  }
  for (const rule of rules) {
    if (rule.startsWith('-')) {
      const h = rule.slice(1);
      if (h === host || (h.startsWith('.') && host.endsWith(h))) allow = false;
    } else if (rule === '*' || rule === host || (rule.startsWith('.') && host.endsWith(rule))) {
      allow = true;
    }
  }
  return allow;
}

/** Python's `unquote` (a group may be stored percent-encoded); a bad escape stays as it is. */
function unquote(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
