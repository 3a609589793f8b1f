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

export function parseAcl(acl: string | undefined): ParsedAcl {
  const referrers: string[] = [];
  const groups: string[] = [];
  for (const raw of (acl ?? '').split(',')) {
    const value = raw.trim();
    if (value === '') continue;
    const colon = value.indexOf(':');
    const head = colon === -1 ? '' : value.slice(0, colon).trim().toLowerCase();
    if (['.r', '.ref', '.referer', '.referrer'].includes(head)) {
      let host = value.slice(colon + 1).trim();
      if (host.startsWith('-')) host = `-${host.slice(1).trim()}`;
      if (host !== '' && host !== '-') referrers.push(host);
    } else {
      groups.push(value);
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
