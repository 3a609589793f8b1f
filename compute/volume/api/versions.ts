import { MAX_API_VERSION, MIN_API_VERSION, versionString } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/** When Cinder's maximum microversion last changed (api_version_request.UPDATED). */
const UPDATED = '2023-08-31T00:00:00Z';

function versions(req: VolumeRequest): unknown {
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: versionString(MAX_API_VERSION),
        min_version: versionString(MIN_API_VERSION),
        updated: UPDATED,
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${req.base}/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}

/**
 * Version discovery (cinder/api/versions.py): `GET /` lists the versions with 300 Multiple
 * Choices; `GET /v3/` the same list with 200. No token needed.
 */
export function versionRoutes(): Route[] {
  return [
    { method: 'GET', path: '/', auth: 'none', handler: async (req): Promise<VolumeResponse> => ({ status: 300, body: versions(req) }) },
    { method: 'GET', path: '/v3', auth: 'none', handler: async (req): Promise<VolumeResponse> => ({ status: 200, body: versions(req) }) },
  ];
}
