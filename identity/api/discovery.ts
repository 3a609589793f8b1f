import type { Route } from '../route.ts';
import type { Json } from '../validation.ts';

/** Identity API v3.14, as Keystone 22 announces it. */
function version(base: string): Json {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${base}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/** Version discovery: `GET /` (300, the versions) and `GET /v3`. */
export function discoveryRoutes(): Route[] {
  return [
    { method: 'GET', path: '/', auth: 'none', handler: async (req) => ({ status: 300, body: { versions: { values: [version(req.base)] } }, headers: { Location: `${req.base}/v3/` } }) },
    { method: 'GET', path: '/v3', auth: 'none', handler: async (req) => ({ status: 200, body: { version: version(req.base) } }) },
  ];
}
