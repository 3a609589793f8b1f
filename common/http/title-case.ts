const cache = new Map<string, string>();

/**
 * Swift writes header names the way Python's `str.title()` does (`X-Object-Meta-Color`,
 * `Etag`, `X-Openstack-Request-Id`): a letter is upper-case when the character before it is
 * not a letter. Clients that compare names case-sensitively expect exactly that.
 */
export function titleCaseHeader(name: string): string {
  let titled = cache.get(name);
  if (titled !== undefined) return titled;
  titled = '';
  let prevLetter = false;
  for (const ch of name) {
    const isLetter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    titled += isLetter ? (prevLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevLetter = isLetter;
  }
  if (cache.size < 10_000) cache.set(name, titled);
  return titled;
}
