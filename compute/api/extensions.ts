import { notFound } from '../errors.ts';
import { type ComputeRoute, ok } from '../request.ts';
import { COMPUTE_EXTENSIONS } from './extension-list.ts';

function view([alias, name, description]: readonly [string, string, string]): Record<string, unknown> {
  return { alias, description, links: [], name, namespace: 'http://docs.openstack.org/compute/ext/fake_xml', updated: '2014-12-03T00:00:00Z' };
}

/**
 * /extensions: Nova's fixed v2 extension list (any user: its policy is `@`), and one by alias;
 * an unknown alias is webob's bare 404.
 */
export function extensionRoutes(): ComputeRoute[] {
  return [
    { method: 'GET', path: '/v2.1/extensions', auth: 'token', handler: async () => ok({ extensions: COMPUTE_EXTENSIONS.map(view) }) },
    {
      method: 'GET',
      path: '/v2.1/extensions/{alias}',
      auth: 'token',
      handler: async (req) => {
        const found = COMPUTE_EXTENSIONS.find(([alias]) => alias === req.params['alias']);
        if (!found) throw notFound('The resource could not be found.');
        return ok({ extension: view(found) });
      },
    },
  ];
}
