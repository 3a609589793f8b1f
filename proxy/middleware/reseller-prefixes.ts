/**
 * The `reseller_prefix` list as Swift's `config_read_reseller_options` reads it: comma-separated,
 * `''` for the empty prefix, each ending in `_`, duplicates dropped, the empty prefix alone when
 * none is given.
 */
export function resellerPrefixes(option: string): string[] {
  const prefixes: string[] = [];
  for (const raw of option.split(',')) {
    let prefix = raw.trim();
    if (prefix === '') continue;
    if (prefix === "''") prefix = '';
    if (prefix !== '' && !prefix.endsWith('_')) prefix += '_';
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
  }
  if (prefixes.length === 0) prefixes.push('');
  return prefixes;
}
