/**
 * `json.dumps(value, sort_keys=True, indent=2)` as Python writes it (ensure_ascii on: every
 * non-ASCII UTF-16 unit as `\uXXXX`), so the metadata and sha256 files read the same as the
 * ones Cinder writes and a Cinder could read ours.
 */
export function pythonJsonDumps(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}
