import type { HashPath } from './hash-path.ts';

/**
 * Where objects with `X-Delete-At` are queued for the expirer, as Swift queues them: a row
 * `<delete_at>-<account>/<container>/<object>` in a container of the `.expiring_objects`
 * account named by the delete-at time (a day per container, spread over 100 containers by
 * the object's hash so no one container gets every row).
 */
export const EXPIRING_OBJECTS_ACCOUNT = '.expiring_objects';
export const EXPIRER_DIVISOR = 86_400;

/** `0001700000000`: Swift's `normalize_delete_at_timestamp`. */
export function normalizeDeleteAt(seconds: number): string {
  return String(Math.max(0, Math.floor(seconds))).padStart(10, '0');
}

/** The queue container for an object expiring at `deleteAt` (Swift's `get_expirer_container`). */
export function expirerContainer(deleteAt: number, account: string, container: string, object: string, hashPath: HashPath): string {
  const shard = Number(BigInt(`0x${hashPath.hash(account, container, object)}`) % 100n);
  return normalizeDeleteAt(Math.floor(deleteAt / EXPIRER_DIVISOR) * EXPIRER_DIVISOR - shard);
}

/** The queue row's name. */
export function expirerEntry(deleteAt: number, account: string, container: string, object: string): string {
  return `${normalizeDeleteAt(deleteAt)}-${account}/${container}/${object}`;
}

/** A queue row's delete-at time and object, or undefined for a name that is not one. */
export function parseExpirerEntry(name: string): { deleteAt: number; account: string; container: string; object: string } | undefined {
  const m = /^(\d+)-([^/]+)\/([^/]+)\/(.+)$/.exec(name);
  if (!m) return undefined;
  return { deleteAt: Number(m[1]), account: m[2] as string, container: m[3] as string, object: m[4] as string };
}
