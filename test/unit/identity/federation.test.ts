import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** OS-FEDERATION identity and service providers, as records, and tokens' `service_providers`. */
let id: TestIdentity;
let admin: string;
let demo: string;
test.before(async () => {
  id = await startIdentity();
  admin = await id.token();
  demo = await id.token({ user: 'demo' });
});
test.after(() => id.close());

const idp = (method: string, name: string, body?: unknown, token = admin) => id.request(method, `/v3/OS-FEDERATION/identity_providers/${name}`, { token, body });
const sp = (method: string, name: string, body?: unknown, token = admin) => id.request(method, `/v3/OS-FEDERATION/service_providers/${name}`, { token, body });

test('an identity provider without a domain gets its own; remote ids are unique across providers', async () => {
  const made = await idp('PUT', 'acme', { identity_provider: { description: 'ACME', enabled: true, remote_ids: ['https://acme/saml'] } });
  assert.is(made.status, 201);
  const self = `${id.url}/v3/OS-FEDERATION/identity_providers/acme`;
  assert.equal({ ...made.json.identity_provider, domain_id: 'x' }, { id: 'acme', domain_id: 'x', enabled: true, description: 'ACME', remote_ids: ['https://acme/saml'], authorization_ttl: null, links: { self, protocols: `${self}/protocols` } });
  const domain = (await id.request('GET', `/v3/domains/${made.json.identity_provider.domain_id}`, { token: admin })).json.domain;
  assert.equal([domain.name, domain.description, domain.enabled], [made.json.identity_provider.domain_id, 'Auto generated federated domain for Identity Provider: acme', true]);
  const domains = (await id.request('GET', '/v3/domains', { token: admin })).json.domains.length;
  const again = await idp('PUT', 'acme', {});
  assert.equal([again.status, again.json.error.message], [409, 'Conflict occurred attempting to store identity_provider - Duplicate entry: acme.']);
  const taken = await idp('PUT', 'other', { identity_provider: { remote_ids: ['https://acme/saml'] } });
  assert.equal([taken.status, taken.json.error.message], [409, 'Conflict occurred attempting to store identity_provider - Duplicate remote ID: https://acme/saml.']);
  assert.is((await idp('GET', 'other')).status, 404);
  assert.is((await id.request('GET', '/v3/domains', { token: admin })).json.domains.length, domains, 'the refused creates left no domain behind');
  const defaulted = await idp('PUT', 'plain', { identity_provider: { domain_id: 'default' } });
  assert.equal([defaulted.status, defaulted.json.identity_provider.enabled, defaulted.json.identity_provider.domain_id], [201, false, 'default']);
  const noDomain = await idp('PUT', 'lost', { identity_provider: { domain_id: 'nope' } });
  assert.equal([noDomain.status, noDomain.json.error.message], [404, 'Could not find domain: nope.']);
  const bad = await idp('PUT', 'bad', { identity_provider: { remote_ids: ['a', 'a'] } });
  assert.equal([bad.status, bad.json.error.message], [400, "Invalid input for field 'identity_provider/remote_ids': ['a', 'a'] has non-unique elements"]);
  assert.equal((await idp('PUT', 'bad', { identity_provider: { bogus: 1 } })).json.error.message, "Invalid input for field 'identity_provider': Additional properties are not allowed ('bogus' was unexpected)");
});

test('identity providers: list with filters, set remote ids (the old one freed), delete; members refused', async () => {
  const listed = await id.request('GET', '/v3/OS-FEDERATION/identity_providers?enabled=true', { token: admin });
  assert.equal(listed.json.identity_providers.map((i: { id: string }) => i.id), ['acme']);
  const set = await idp('PATCH', 'acme', { identity_provider: { remote_ids: ['https://acme/new'], description: null } });
  assert.equal([set.status, set.json.identity_provider.remote_ids, set.json.identity_provider.description], [200, ['https://acme/new'], null]);
  assert.is((await idp('PATCH', 'plain', { identity_provider: { remote_ids: ['https://acme/saml'] } })).status, 200, 'the old remote id is free');
  const clash = await idp('PATCH', 'plain', { identity_provider: { remote_ids: ['https://acme/new'] } });
  assert.equal([clash.status, clash.json.error.message], [409, 'Conflict occurred attempting to store identity_provider - Duplicate remote ID: https://acme/new.']);
  assert.equal((await idp('GET', 'plain')).json.identity_provider.remote_ids, ['https://acme/saml']);
  assert.equal((await idp('PATCH', 'plain', { identity_provider: {} })).json.error.message, "Invalid input for field 'identity_provider': {} should be non-empty");
  const refused = await idp('GET', 'acme', undefined, demo);
  assert.equal([refused.status, refused.json.error.message], [403, 'You are not authorized to perform the requested action: identity:get_identity_provider.']);
  assert.is((await idp('PUT', 'mine', {}, demo)).status, 403);
  assert.is((await idp('DELETE', 'acme')).status, 204);
  const gone = await idp('GET', 'acme');
  assert.equal([gone.status, gone.json.error.message], [404, 'Could not find Identity Provider: acme.']);
  assert.is((await idp('PUT', 'reuse', { identity_provider: { domain_id: 'default', remote_ids: ['https://acme/new'] } })).status, 201, "a deleted provider's remote ids are free");
});

test('service providers: create (disabled, ss:mem: by default), 409 twice, set, delete; enabled ones are in tokens', async () => {
  const made = await sp('PUT', 'cloud2', { service_provider: { auth_url: 'https://sp:5000/v3/OS-FEDERATION/identity_providers/x/protocols/saml2/auth', sp_url: 'https://sp:5000/Shibboleth.sso/SAML2/ECP', description: 'two' } });
  assert.is(made.status, 201);
  assert.equal({ ...made.json.service_provider, auth_url: 'x', sp_url: 'y' }, { id: 'cloud2', enabled: false, description: 'two', auth_url: 'x', sp_url: 'y', relay_state_prefix: 'ss:mem:', links: { self: `${id.url}/v3/OS-FEDERATION/service_providers/cloud2` } });
  const again = await sp('PUT', 'cloud2', { service_provider: { auth_url: 'https://a', sp_url: 'https://b' } });
  assert.equal([again.status, again.json.error.message], [409, 'Conflict occurred attempting to store service_provider - Duplicate entry found with ID cloud2.']);
  const missing = await sp('PUT', 'cloud3', { service_provider: { auth_url: 'https://a' } });
  assert.equal([missing.status, missing.json.error.message], [400, "Invalid input for field 'service_provider': 'sp_url' is a required property"]);
  assert.equal((await sp('PUT', 'cloud3', { service_provider: { auth_url: 'nourl', sp_url: 'https://b' } })).json.error.message, "Invalid input for field 'service_provider/auth_url': 'nourl' does not match '^[a-zA-Z0-9+.-]+:.+'");
  assert.is((await sp('GET', 'cloud3')).status, 404);
  const token = async () => (await id.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': admin } })).json.token;
  assert.is((await token()).service_providers, undefined, 'a disabled one is not shown');
  const set = await sp('PATCH', 'cloud2', { service_provider: { enabled: true, sp_url: 'https://sp2/ecp' } });
  assert.equal([set.status, set.json.service_provider.enabled, set.json.service_provider.sp_url], [200, true, 'https://sp2/ecp']);
  assert.equal((await token()).service_providers, [{ auth_url: made.json.service_provider.auth_url, id: 'cloud2', sp_url: 'https://sp2/ecp' }]);
  assert.equal((await id.request('GET', '/v3/OS-FEDERATION/service_providers', { token: admin })).json.service_providers.map((s: { id: string }) => s.id), ['cloud2']);
  assert.is((await sp('GET', 'cloud2', undefined, demo)).status, 403);
  assert.is((await sp('DELETE', 'cloud2', undefined, demo)).status, 403);
  assert.is((await sp('DELETE', 'cloud2')).status, 204);
  assert.equal([(await sp('GET', 'cloud2')).json.error.message], ['Could not find Service Provider: cloud2.']);
  assert.is((await token()).service_providers, undefined);
});

test.run();
