/**
 * Python's `cgi.parse_header`: a value and its `; key=value` parameters (keys lower-cased,
 * quoted values unquoted, a repeated key's last value in its first place), as Swift splits
 * listing hashes and content types.
 */
export function parseHeaderParams(value: string): { value: string; params: Map<string, string> } {
  const parts = splitParams(value);
  const params = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\\\/g, '\\').replace(/\\"/g, '"');
    params.set(key, v);
  }
  return { value: (parts[0] ?? '').trim(), params };
}

/** `;`-separated parts, a `;` inside quotes not counting. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (c === ';' && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out;
}
