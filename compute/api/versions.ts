import { MAX_VERSION, MIN_VERSION, versionString } from '../api-version.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';

/** Nova's v2.1 version entry (nova/api/openstack/compute/versions.py); v2.0 is not served. */
function v21(req: ComputeRequest): Record<string, unknown> {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: versionString(MAX_VERSION),
    min_version: versionString(MIN_VERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${req.base}/v2.1/` }],
  };
}

/** The version documents: `/` lists the versions, `/v2.1` describes the one served. No token needed. */
export function versionRoutes(): ComputeRoute[] {
  return [
    { method: 'GET', path: '/', auth: 'none', handler: async (req) => ok({ versions: [v21(req)] }) },
    {
      method: 'GET',
      path: '/v2.1',
      auth: 'none',
      handler: async (req) => {
        const version = v21(req);
        version['links'] = [
          { rel: 'self', href: `${req.base}/v2.1/` },
          { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
        ];
        version['media-types'] = [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }];
        return ok({ version });
      },
    },
  ];
}
