import { bool, type ConfigOf, type Schema } from '../../common/config.ts';
import type { ResponseHeaders } from '../../common/http/server.ts';
import type { Middleware } from '../request.ts';
import { respond } from './subresponse.ts';

/** The `[gatekeeper]` section (Swift's `[filter:gatekeeper]`), with Swift 2.30's default. */
export const gatekeeperSchema = {
  shunt_inbound_x_timestamp: bool(true, "a client's X-Timestamp is set aside (X-Backend-Inbound-X-Timestamp), so writes get the proxy's own time"),
} as const satisfies Schema;

export type GatekeeperConfig = ConfigOf<typeof gatekeeperSchema>;

const SYSMETA = /^x-(?:account|container|object)-sysmeta-/;

/**
 * Headers for storage nodes' eyes only; Swift's gatekeeper keeps them out of both directions.
 * Every header of every request passes here twice, so a name that cannot be one (shorter than
 * `x-backend-`, or not `x-` at all: most of them) is let through before any lowering or regex.
 */
function internal(name: string): boolean {
  if (name.length < 10 || (name.charCodeAt(0) | 0x20) !== 0x78 || name.charCodeAt(1) !== 0x2d) return false;
  const n = name.toLowerCase();
  return n.startsWith('x-backend-') || n.startsWith('x-object-transient-sysmeta-') || SYSMETA.test(n);
}

/**
 * Swift's gatekeeper: a client may not send backend or system-metadata headers (they would
 * let it forge internal state), and never sees them in responses. Middlewares after it may
 * set them. A client's `X-Timestamp` is shunted aside unless `shunt_inbound_x_timestamp` is
 * off: only then may a client choose its writes' timestamps (container sync does).
 */
export function gatekeeper(config: GatekeeperConfig): Middleware {
  return (next) => async (req) => {
    if (req.env.source === undefined) {
      for (const name of Object.keys(req.headers)) if (internal(name)) delete req.headers[name];
      const timestamp = req.headers['x-timestamp'];
      if (timestamp !== undefined && config.shunt_inbound_x_timestamp) {
        delete req.headers['x-timestamp'];
        req.headers['x-backend-inbound-x-timestamp'] = timestamp;
      }
    }
    // Errors thrown further in become responses here, so their headers are filtered too (a
    // symlink's 307 carries the link's sysmeta for the middlewares before it).
    const response = await respond(next, req);
    if (req.env.source !== undefined || !response.headers) return response;
    const headers: ResponseHeaders = {};
    const given = response.headers;
    for (const k in given) if (!internal(k)) headers[k] = given[k] as string | number | string[];
    return { ...response, headers };
  };
}
