import { Timestamp } from './timestamp.ts';

/**
 * The container reconciler's queue, as Swift keeps it: objects written in another storage
 * policy than their container's (a proxy that still had the container's old policy cached, or
 * replicas that disagreed on the policy until replication settled it) are queued as rows of
 * containers in the `.misplaced_objects` account, one container per hour of the row's
 * timestamp. A row is named `<policy index>:/<account>/<container>/<object>` (the policy the
 * object is in now); its content type says whether a PUT or a DELETE went astray, and its ETag
 * holds the misplaced write's timestamp.
 */
export const MISPLACED_OBJECTS_ACCOUNT = '.misplaced_objects';
export const MISPLACED_OBJECTS_CONTAINER_DIVISOR = 3600;

const CONTENT_TYPES = { PUT: 'application/x-put', DELETE: 'application/x-delete' } as const;

/** The queue container of a row written at `timestamp` (Swift's `get_reconciler_container_name`). */
export function reconcilerContainer(timestamp: Timestamp): string {
  return String(Math.floor(timestamp.seconds / MISPLACED_OBJECTS_CONTAINER_DIVISOR) * MISPLACED_OBJECTS_CONTAINER_DIVISOR);
}

/** A queue row's name (Swift's `get_reconciler_obj_name`). */
export function reconcilerObjectName(policyIndex: number, account: string, container: string, object: string): string {
  return `${policyIndex}:/${account}/${container}/${object}`;
}

/** A queue row's content type for the misplaced operation. */
export function reconcilerContentType(op: 'PUT' | 'DELETE'): string {
  return CONTENT_TYPES[op];
}

/** One queue row, parsed (Swift's `parse_raw_obj`). */
export interface MisplacedEntry {
  /** The policy the object was written in. */
  readonly policyIndex: number;
  readonly account: string;
  readonly container: string;
  readonly object: string;
  readonly op: 'PUT' | 'DELETE';
  /** The misplaced write's timestamp. */
  readonly timestamp: Timestamp;
}

/**
 * A listing entry of a queue container (`name`, `content_type`, `hash`) as a queue row.
 * @throws {Error} for an entry that is not one (the reconciler counts it and goes on).
 */
export function parseMisplacedEntry(entry: Readonly<Record<string, unknown>>): MisplacedEntry {
  const name = String(entry['name'] ?? '');
  const m = /^(\d+):\/([^/]+)\/([^/]+)\/(.+)$/s.exec(name);
  if (!m) throw new Error(`not a reconciler queue row: ${JSON.stringify(name)}`);
  const contentType = String(entry['content_type'] ?? '');
  const op = contentType === CONTENT_TYPES.PUT ? 'PUT' : contentType === CONTENT_TYPES.DELETE ? 'DELETE' : undefined;
  if (!op) throw new Error(`invalid operation type ${JSON.stringify(contentType)}`);
  return { policyIndex: Number(m[1]), account: m[2] as string, container: m[3] as string, object: m[4] as string, op, timestamp: Timestamp.parse(String(entry['hash'] ?? '')) };
}
