import { RecordExistsError } from '../../client/record-store.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, notFound } from '../errors.ts';
import { booleanOf, identityProviderCreate, identityProviderUpdate } from '../federation-schema.ts';
import { mustGet, newId } from '../lookup.ts';
import { requireAdmin, requireAdminOrSystemReader } from '../policy.ts';
import { type DomainRecord, type IdentityProviderRecord, renderIdentityProvider, renderList } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { type IdentityStore, T } from '../store.ts';
import { queryBoolean } from '../validation.ts';

/**
 * OS-FEDERATION identity providers (keystone/api/os_federation.py), as records: nobody
 * authenticates through them here (no protocols, mappings or federated tokens). An identity
 * provider created without a domain gets one of its own, as Keystone makes it; a remote id
 * belongs to one identity provider at most (`idp-remote-ids/<remote id>`, claimed first).
 */
export function identityProviderRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const path = '/v3/OS-FEDERATION/identity_providers/{idp_id}';
  const mustFind = async (id: string): Promise<IdentityProviderRecord> => {
    const found = await store.get<IdentityProviderRecord>(T.identityProviders, id);
    if (!found) throw notFound('Identity Provider', id);
    return found;
  };
  return [
    {
      method: 'PUT',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_identity_provider');
        const id = req.params['idp_id'] as string;
        const body = identityProviderCreate(req.body);
        const duplicate = () => conflict('identity_provider', `Duplicate entry: ${id}.`);
        if (await store.get(T.identityProviders, id)) throw duplicate();
        let domainId = body['domain_id'] as string | null | undefined;
        let madeDomain: DomainRecord | undefined;
        if (domainId) await mustGet<DomainRecord>(store, T.domains, domainId, 'domain');
        else {
          const auto = newId();
          madeDomain = { id: auto, name: auto, description: `Auto generated federated domain for Identity Provider: ${id}`, enabled: true, tags: [], options: {}, extra: {} };
          await store.createNamed(T.domains, T.domainNames, auto, madeDomain, () => conflict('domain', `Duplicate entry found with name ${auto}.`));
          domainId = auto;
        }
        const idp: IdentityProviderRecord = {
          id,
          domain_id: domainId,
          enabled: booleanOf(body['enabled']) ?? false,
          description: (body['description'] as string | null | undefined) ?? null,
          remote_ids: (body['remote_ids'] as string[] | null | undefined) ?? [],
          authorization_ttl: (body['authorization_ttl'] as number | null | undefined) ?? null,
        };
        const claimed: string[] = [];
        try {
          for (const remoteId of idp.remote_ids) {
            await claimRemoteId(store, remoteId, id);
            claimed.push(remoteId);
          }
          await store.records.create(T.identityProviders, id, idp);
        } catch (err) {
          // Keystone takes back the domain it made when the identity provider cannot be stored.
          for (const remoteId of claimed) await releaseRemoteId(store, remoteId, id).catch(() => undefined);
          if (madeDomain) await store.deleteNamed(T.domains, T.domainNames, madeDomain.name, madeDomain.id).catch(() => undefined);
          throw err instanceof RecordExistsError ? duplicate() : err;
        }
        return ok({ identity_provider: renderIdentityProvider(idp, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/OS-FEDERATION/identity_providers',
      auth: 'token',
      handler: async (req) => {
        requireAdminOrSystemReader(req, 'identity:list_identity_providers');
        const id = req.query.get('id');
        const enabled = req.query.get('enabled');
        const found = (await store.scan<IdentityProviderRecord>(T.identityProviders)).filter((i) => (id === null || i.id === id) && (enabled === null || i.enabled === queryBoolean(enabled)));
        return ok(renderList('identity_providers', found.map((i) => renderIdentityProvider(i, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdminOrSystemReader(req, 'identity:get_identity_provider');
        return ok({ identity_provider: renderIdentityProvider(await mustFind(req.params['idp_id'] as string), req.base) });
      },
    },
    {
      method: 'PATCH',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_identity_provider');
        const id = req.params['idp_id'] as string;
        const body = identityProviderUpdate(req.body);
        const current = await mustFind(id);
        const next: IdentityProviderRecord = {
          ...current,
          ...(booleanOf(body['enabled']) !== undefined ? { enabled: booleanOf(body['enabled']) as boolean } : {}),
          ...('description' in body ? { description: (body['description'] as string | null) ?? null } : {}),
          ...('authorization_ttl' in body ? { authorization_ttl: (body['authorization_ttl'] as number | null) ?? null } : {}),
          ...('remote_ids' in body ? { remote_ids: (body['remote_ids'] as string[] | null) ?? [] } : {}),
        };
        const added = next.remote_ids.filter((r) => !current.remote_ids.includes(r));
        const claimed: string[] = [];
        let updated: IdentityProviderRecord | undefined;
        try {
          for (const remoteId of added) {
            await claimRemoteId(store, remoteId, id);
            claimed.push(remoteId);
          }
          updated = await store.update<IdentityProviderRecord>(T.identityProviders, id, (r) => ({ ...next, remote_ids: 'remote_ids' in body ? next.remote_ids : r.remote_ids }));
        } catch (err) {
          for (const remoteId of claimed) await releaseRemoteId(store, remoteId, id).catch(() => undefined);
          throw err;
        }
        if (!updated) throw notFound('Identity Provider', id);
        for (const remoteId of current.remote_ids) if (!updated.remote_ids.includes(remoteId)) await releaseRemoteId(store, remoteId, id);
        return ok({ identity_provider: renderIdentityProvider(updated, req.base) });
      },
    },
    {
      method: 'DELETE',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_identity_provider');
        const idp = await mustFind(req.params['idp_id'] as string);
        await store.records.delete(T.identityProviders, idp.id);
        for (const remoteId of idp.remote_ids) await releaseRemoteId(store, remoteId, idp.id);
        return NO_CONTENT;
      },
    },
  ];
}

/** Remote ids may hold any character; their index keys are percent-encoded. */
const remoteKey = (remoteId: string): string => encodeURIComponent(remoteId);

/** @throws 409 "Duplicate remote ID" when another identity provider has it. */
async function claimRemoteId(store: IdentityStore, remoteId: string, idpId: string): Promise<void> {
  try {
    await store.records.create(T.idpRemoteIds, remoteKey(remoteId), { id: idpId });
    return;
  } catch (err) {
    if (!(err instanceof RecordExistsError)) throw err;
  }
  const owner = await store.get<{ id: string }>(T.idpRemoteIds, remoteKey(remoteId));
  // An index whose identity provider is gone (a delete that stopped half way) is taken over.
  if (owner && owner.id !== idpId && (await store.get(T.identityProviders, owner.id))) throw conflict('identity_provider', `Duplicate remote ID: ${remoteId}.`);
  await store.records.put(T.idpRemoteIds, remoteKey(remoteId), { id: idpId });
}

async function releaseRemoteId(store: IdentityStore, remoteId: string, idpId: string): Promise<void> {
  const owner = await store.get<{ id: string }>(T.idpRemoteIds, remoteKey(remoteId));
  if (owner?.id === idpId) await store.records.delete(T.idpRemoteIds, remoteKey(remoteId));
}
