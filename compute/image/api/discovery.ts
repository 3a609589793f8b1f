import { imageSchema, imagesSchema, memberSchema, membersSchema } from '../image-schema.ts';
import type { ImageRoute } from '../request.ts';

/** Glance's API versions (glance/api/versions.py): v2.0 to v2.16, the newest CURRENT. */
const VERSIONS = ['2.16', '2.15', '2.9', '2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'];

function versions(base: string): Record<string, unknown> {
  return {
    versions: VERSIONS.map((v, i) => ({ id: `v${v}`, status: i === 0 ? 'CURRENT' : 'SUPPORTED', links: [{ rel: 'self', href: `${base}/v2/` }] })),
  };
}

/** `GET /` and `GET /versions` (300 and 200), and the schemas. */
export function discoveryRoutes(): ImageRoute[] {
  return [
    { method: 'GET', path: '/', auth: 'none', handler: async (req) => ({ status: 300, json: versions(req.base) }) },
    { method: 'GET', path: '/versions', auth: 'none', handler: async (req) => ({ status: 200, json: versions(req.base) }) },
    { method: 'GET', path: '/v2/schemas/image', handler: async () => ({ status: 200, json: imageSchema() }) },
    { method: 'GET', path: '/v2/schemas/images', handler: async () => ({ status: 200, json: imagesSchema() }) },
    { method: 'GET', path: '/v2/schemas/member', handler: async () => ({ status: 200, json: memberSchema() }) },
    { method: 'GET', path: '/v2/schemas/members', handler: async () => ({ status: 200, json: membersSchema() }) },
  ];
}
