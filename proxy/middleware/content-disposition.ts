/**
 * Swift's `parse_content_disposition`: `form-data; name="file"; filename="a.txt"` as
 * `['form-data', { name: 'file', filename: 'a.txt' }]`. Attributes are read from the start
 * while they match `name=value` or `name="value"` (quotes stripped); the first one that does
 * not ends the list. Also reads `Content-Type` parameters (`boundary`).
 */
export function parseContentDisposition(header: string): [string, Record<string, string>] {
  const attributes: Record<string, string> = {};
  let value = header;
  let attrs = '';
  const semicolon = header.indexOf(';');
  if (semicolon !== -1) {
    value = header.slice(0, semicolon).trim();
    attrs = header.slice(semicolon + 1).trim();
  }
  for (;;) {
    const m = /^([\p{L}\p{N}_]+)=("[^\n]*?"|[^";]+)(; ?|$)/u.exec(attrs);
    if (!m) break;
    attrs = attrs.slice(m[0].length);
    attributes[m[1] as string] = (m[2] as string).replace(/^"+|"+$/g, '');
  }
  return [value, attributes];
}
