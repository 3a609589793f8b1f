import { deleteDomain } from '../cascade.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, forbidden } from '../errors.ts';
import { mustGet, newId } from '../lookup.ts';
import { requireAdmin, requireAdminOrDomain } from '../policy.ts';
import { type DomainRecord, renderDomain, renderList } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { extraFields, optionalBoolean, optionalObject, optionalString, optionalTags, queryBoolean, requiredString, section } from '../validation.ts';

const DOMAIN_NAME = { min: 1, max: 64, pattern: /\S/ };
const KNOWN = ['id', 'name', 'description', 'enabled', 'tags', 'options', 'links'];

/** Domains (`/v3/domains`): names unique; a domain must be disabled before it is deleted. */
export function domainRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const taken = (name: string) => (): Error => conflict('project', `it is not permitted to have two projects acting as domains with the same name: ${name}.`);
  return [
    {
      method: 'POST',
      path: '/v3/domains',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_domain');
        const body = section(req.body, 'domain');
        const name = requiredString(body, 'name', DOMAIN_NAME);
        const domain: DomainRecord = {
          id: newId(),
          name,
          description: optionalString(body, 'description', { nullable: true }) ?? '',
          enabled: optionalBoolean(body, 'enabled') ?? true,
          tags: optionalTags(body) ?? [],
          options: optionalObject(body, 'options') ?? {},
          extra: extraFields(body, KNOWN),
        };
        await store.createNamed(T.domains, T.domainNames, name, domain, taken(name));
        return ok({ domain: renderDomain(domain, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/domains',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_domains');
        const name = req.query.get('name');
        const enabled = req.query.get('enabled');
        let domains = name !== null ? [await store.byName<DomainRecord>(T.domains, T.domainNames, name)].filter((d): d is DomainRecord => d !== undefined) : await store.scan<DomainRecord>(T.domains);
        if (enabled !== null) domains = domains.filter((d) => d.enabled === queryBoolean(enabled));
        return ok(renderList('domains', domains.map((d) => renderDomain(d, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/domains/{domain_id}',
      auth: 'token',
      handler: async (req) => {
        const id = req.params['domain_id'] as string;
        requireAdminOrDomain(req, 'identity:get_domain', id);
        return ok({ domain: renderDomain(await mustGet<DomainRecord>(store, T.domains, id, 'domain'), req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/domains/{domain_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_domain');
        const id = req.params['domain_id'] as string;
        const body = section(req.body, 'domain');
        const name = optionalString(body, 'name', DOMAIN_NAME);
        const description = optionalString(body, 'description', { nullable: true });
        const enabled = optionalBoolean(body, 'enabled');
        const tags = optionalTags(body);
        const options = optionalObject(body, 'options');
        const before = await mustGet<DomainRecord>(store, T.domains, id, 'domain');
        if (enabled === false && before.enabled) await deps.revocations.revoke({ domain_id: id });
        const updated = await store.update<DomainRecord>(
          T.domains,
          id,
          (d) => ({
            ...d,
            ...(name !== undefined ? { name } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(enabled !== undefined ? { enabled } : {}),
            ...(tags !== undefined ? { tags } : {}),
            ...(options !== undefined ? { options: { ...d.options, ...options } } : {}),
            extra: { ...d.extra, ...extraFields(body, KNOWN) },
          }),
          { nameType: T.domainNames, keyOf: (d) => d.name, conflict: taken(name ?? '') },
        );
        return ok({ domain: renderDomain(updated ?? before, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/domains/{domain_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_domain');
        const domain = await mustGet<DomainRecord>(store, T.domains, req.params['domain_id'] as string, 'domain');
        if (domain.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
        await deleteDomain(deps, domain);
        return NO_CONTENT;
      },
    },
  ];
}
