import type { Clock } from '../../common/clock.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { Middleware, ProxyHandler } from '../request.ts';
import type { SloConfig } from './large-object-config.ts';
import { requestTarget } from './segment-path.ts';
import { sloDelete } from './slo-delete.ts';
import { sloGetOrHead } from './slo-get.ts';
import { sloContainerListing } from './slo-listing.ts';
import { sloPut } from './slo-put.ts';

/** What the SLO middleware needs from the proxy. */
export interface SloDeps {
  readonly clock: Clock;
  /** Seconds a client may pause while sending a manifest (the proxy's `client_timeout`). */
  readonly clientTimeout: number;
}

/**
 * Static large objects (Swift's `slo` middleware). A manifest is a JSON list of segments the
 * client wrote with `PUT ?multipart-manifest=put`, each checked when it was written; reading
 * the manifest reads the concatenation of its segments.
 *
 * | request | handled by |
 * |---|---|
 * | `PUT ?multipart-manifest=put` | `sloPut`: check the segments, store the manifest |
 * | `GET`/`HEAD` of an object | `sloGetOrHead`: the large object (or `?multipart-manifest=get`: the manifest) |
 * | `DELETE ?multipart-manifest=delete` | `sloDelete`: the segments, then the manifest |
 * | `GET` of a container | `sloContainerListing`: `slo_etag` split out of the rows |
 *
 * Any other write carrying `X-Static-Large-Object` is refused: only this middleware makes
 * manifests. Subrequests go down the pipeline (`next`), except the HEADs of segments while a
 * manifest is written, which go through this middleware so a nested SLO shows its whole size.
 */
export function slo(config: SloConfig, deps: SloDeps): Middleware {
  return (next) => {
    const self: ProxyHandler = async (req) => {
      const target = requestTarget(req.path);
      if (!target || target.container === undefined) return next(req);
      if (target.object === undefined) return req.method === 'GET' ? sloContainerListing(next, req) : next(req);
      const object = { version: target.version, account: target.account, container: target.container, object: target.object };
      const multipart = req.query.get('multipart-manifest');
      if (req.method === 'PUT' && multipart === 'put') return sloPut(self, next, req, object, config, deps);
      if (req.method === 'DELETE' && multipart === 'delete') return sloDelete(next, req, object, config, deps);
      if (req.method === 'GET' || req.method === 'HEAD') return sloGetOrHead(next, req, object, config, deps);
      if (req.headers['x-static-large-object'] !== undefined) {
        throw new HttpError(400, 'X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.');
      }
      return next(req);
    };
    return self;
  };
}
