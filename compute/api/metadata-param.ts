import { overQuota } from '../errors.ts';
import { quotaLimits } from '../quota.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, isObject, pyRepr } from '../validation.ts';

/** `parameter_types.metadata`'s key pattern (a range-free class: letters, digits, `-_:. `). */
const KEY = /^[a-zA-Z0-9\-_:. ]{1,255}$/;

/**
 * A server's `metadata` as Nova's schema takes it (`parameter_types.metadata`): an object of
 * strings of up to 255 characters under keys of the pattern. @throws {NovaError} 400
 */
export function metadataParam(field: string, value: unknown): Record<string, string> {
  if (!isObject(value)) throw fieldError(field, value, `${pyRepr(value)} is not of type 'object'`);
  for (const [k, v] of Object.entries(value)) {
    if (!KEY.test(k)) throw fieldError(field, value, `${pyRepr(k)} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'`);
    if (typeof v !== 'string') throw fieldError(k, v, `${pyRepr(v)} is not of type 'string'`);
    if (v.length > 255) throw fieldError(k, v, `${pyRepr(v)} is too long`);
  }
  return value as Record<string, string>;
}

/** Nova's `_check_metadata_properties_quota`: more items than the project's `metadata_items` is 403. */
export async function checkMetadataQuota(store: ComputeStore, projectId: string, metadata: Readonly<Record<string, string>>): Promise<void> {
  const allowed = (await quotaLimits(store, projectId)).metadata_items;
  if (allowed >= 0 && Object.keys(metadata).length > allowed) throw overQuota(`Maximum number of metadata items exceeds ${allowed}`);
}
