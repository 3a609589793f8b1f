import { randomBytes } from 'node:crypto';

/**
 * Swift's transaction id: `tx` + 21 hex digits + `-` + the time in 10 hex digits, plus the
 * client's `X-Trans-Id-Extra` (sanitised, at most 32 characters) when given. Every response
 * carries it as `X-Trans-Id` and `X-Openstack-Request-Id`, and every log line of the request.
 */
export function newTransId(nowMs: number, extra?: string): string {
  const id = `tx${randomBytes(11).toString('hex').slice(0, 21)}-${Math.floor(nowMs / 1000).toString(16).padStart(10, '0')}`;
  if (!extra) return id;
  const clean = encodeURIComponent(extra).slice(0, 32);
  return clean === '' ? id : `${id}${clean}`;
}
