import { notFound } from '../errors.ts';
import { type ComputeRoute, ok } from '../request.ts';
import type { ServerAddress } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { visibleServer } from './servers.ts';

/** Nova's `ips` view: the version and address only (the `OS-EXT-IPS` fields are `addresses`' in server show). */
const basic = (a: ServerAddress) => ({ version: a.version, addr: a.addr });

/** `/servers/{id}/ips` and `/servers/{id}/ips/{network label}`, as Nova's `ips.py`. */
export function serverIpRoutes(d: { readonly store: ComputeStore }): ComputeRoute[] {
  return [
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/ips',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(d.store, req, req.params['server_id'] as string);
        return ok({ addresses: Object.fromEntries(Object.entries(s.addresses).map(([label, list]) => [label, list.map(basic)])) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/ips/{network}',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(d.store, req, req.params['server_id'] as string);
        const label = req.params['network'] as string;
        const list = Object.hasOwn(s.addresses, label) ? s.addresses[label] : undefined;
        if (!list) throw notFound('Instance is not a member of specified network');
        return ok({ [label]: list.map(basic) });
      },
    },
  ];
}
