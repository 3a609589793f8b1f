import { randomBytes } from 'node:crypto';

/**
 * Swift's transaction id: `tx` + 21 hex digits + `-` + the time in 10 hex digits, plus the
 * client's `X-Trans-Id-Extra` (sanitised, at most 32 characters) when given. Every response
 * carries it as `X-Trans-Id` and `X-Openstack-Request-Id`, and every log line of the request.
 */
export function newTransId(nowMs: number, extra?: string): string {
  const id = `tx${randomHex21()}-${Math.floor(nowMs / 1000).toString(16).padStart(10, '0')}`;
  if (!extra) return id;
  const clean = encodeURIComponent(extra).slice(0, 32);
  return clean === '' ? id : `${id}${clean}`;
}

// Random bytes are taken from a pool refilled 4 KiB at a time: one call into the CSPRNG per
// 372 requests instead of one each.
let pool = Buffer.alloc(0);
let used = 0;
function randomHex21(): string {
  if (used + 11 > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  used += 11;
  return pool.toString('hex', used - 11, used).slice(0, 21);
}
