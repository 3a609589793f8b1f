import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../../common/config.ts';
import type { HttpError } from '../../../../common/http/http-error.ts';
import { type KeystoneAuthorizeDeps, type KeystoneIdentity, keystoneAuthorize, PROJECT_DOMAIN_SYSMETA, UNKNOWN_DOMAIN_ID } from '../../../../proxy/middleware/keystoneauth-authorize.ts';
import { keystoneauthSchema, keystoneauthSettings } from '../../../../proxy/middleware/keystoneauth-settings.ts';
import type { AuthDecision, AuthorizeRequest } from '../../../../proxy/request.ts';

const base = defaultConfig({ k: keystoneauthSchema }).k;
const settings = keystoneauthSettings({ ...base, reseller_prefix: 'AUTH, SERVICE', operator_roles: 'admin, Member', '*_service_roles': { SERVICE_service_roles: 'service' }, project_reader_roles: 'reader', system_reader_roles: 'auditor' });

const me: KeystoneIdentity = { userId: 'u1', userDomainId: 'default', projectId: 'p1', projectDomainId: 'default', roles: ['member'], serviceRoles: [] };

function deps(accounts: Record<string, string | undefined> = {}, names = { user: 'alice', project: 'proj' }): KeystoneAuthorizeDeps & { lookups: number } {
  const d = {
    lookups: 0,
    accountDomain: async (account: string) => ({ exists: account in accounts, domainId: accounts[account] }),
    names: async () => {
      d.lookups++;
      return names;
    },
  };
  return d;
}

async function decide(identity: KeystoneIdentity, request: Partial<AuthorizeRequest>, headers: Record<string, string | undefined> = {}, d = deps()): Promise<AuthDecision> {
  return keystoneAuthorize(identity, { method: 'GET', account: 'AUTH_p1', ...request }, { headers }, settings, d);
}

const status = (decision: AuthDecision): number | 'owner' | 'allowed' => (decision.denied ? (decision.denied as HttpError).status : decision.owner ? 'owner' : 'allowed');

test('settings: role lists are lower-case per prefix; an option of the prefix wins over the common one', () => {
  assert.equal(settings.prefixes, ['AUTH_', 'SERVICE_']);
  assert.equal(settings.rules.get('AUTH_'), { operatorRoles: ['admin', 'member'], serviceRoles: [], projectReaderRoles: ['reader'] });
  assert.equal(settings.rules.get('SERVICE_')?.serviceRoles, ['service']);
  assert.is(settings.resellerAdminRole, 'reselleradmin');
  assert.equal(keystoneauthSettings({ ...base, reseller_prefix: "'', AUTH" }).prefixes, ['', 'AUTH_']);
});

test('an operator role owns the project account under each prefix; another project is 403', async () => {
  assert.is(status(await decide(me, { method: 'PUT', container: 'c' })), 'owner');
  assert.is(status(await decide({ ...me, roles: ['admin'] }, { method: 'POST' })), 'owner');
  assert.is(status(await decide(me, { account: 'AUTH_p2' })), 403);
  assert.is(status(await decide(me, { account: 'AUTH_p1x' })), 403);
  assert.is(status(await decide({ ...me, roles: ['other'] }, {})), 403);
  assert.is(status(await decide({ ...me, projectId: '', roles: ['admin'] }, { account: 'AUTH_' })), 403, 'a domain-scoped admin owns no account');
});

test('nobody deletes their own account; the reseller admin role may', async () => {
  assert.is(status(await decide({ ...me, roles: ['admin'] }, { method: 'DELETE' })), 403);
  assert.is(status(await decide({ ...me, roles: ['ResellerAdmin'.toLowerCase()] }, { method: 'DELETE', account: 'AUTH_p9' })), 'owner');
});

test('project readers and system readers read, and only read', async () => {
  const reader = { ...me, roles: ['reader'] };
  assert.is(status(await decide(reader, { method: 'HEAD', container: 'c' })), 'allowed');
  assert.is(status(await decide(reader, { method: 'PUT', container: 'c', object: 'o' })), 403);
  const auditor = { ...me, projectId: 'p7', roles: ['auditor'] };
  assert.is(status(await decide(auditor, { method: 'GET', account: 'AUTH_any' })), 'allowed');
  assert.is(status(await decide(auditor, { method: 'POST', account: 'AUTH_any' })), 403);
});

test('SERVICE_ needs the service role from an X-Service-Token besides the operator role', async () => {
  assert.is(status(await decide(me, { account: 'SERVICE_p1', container: 'c' })), 403);
  assert.is(status(await decide({ ...me, serviceRoles: ['service'] }, { account: 'SERVICE_p1', container: 'c' })), 'owner');
  assert.is(status(await decide({ ...me, roles: ['other'], serviceRoles: ['service'] }, { account: 'SERVICE_p1', container: 'c' })), 403, 'a service role alone owns nothing');
});

test('container ACLs: project:user by ids and *, names only when looked up and in the default domain', async () => {
  const them = { ...me, projectId: 'p2', userId: 'u2', roles: [] };
  for (const acl of ['p2:u2', '*:u2', 'p2:*', '*:*']) assert.is(status(await decide(them, { container: 'c', acl })), 'allowed', acl);
  const d = deps({}, { user: 'bob', project: 'proj2' });
  assert.is(status(await decide(them, { container: 'c', acl: 'p2:u2' }, {}, d)), 'allowed');
  assert.is(d.lookups, 0, 'an id match needs no names');
  assert.is(status(await decide(them, { container: 'c', acl: 'proj2:bob' }, {}, deps({ AUTH_p1: 'default' }, { user: 'bob', project: 'proj2' }))), 'allowed');
  assert.is(status(await decide(them, { container: 'c', acl: 'proj2:bob' }, {}, deps({ AUTH_p1: 'other-domain' }, { user: 'bob', project: 'proj2' }))), 403, "the account's project is elsewhere");
  assert.is(status(await decide({ ...them, userDomainId: 'd2' }, { container: 'c', acl: 'proj2:bob' }, {}, deps({ AUTH_p1: 'default' }, { user: 'bob', project: 'proj2' }))), 403, 'the user is elsewhere');
  assert.is(status(await decide(them, { container: 'c', acl: 'u2' })), 403, 'a bare id is a role name, not a user');
});

test('a role named in the ACL allows, after the account owner rules; a referrer allows objects and .rlistings', async () => {
  const them = { ...me, projectId: 'p2', roles: ['editor'] };
  assert.is(status(await decide(them, { container: 'c', object: 'o', acl: 'Editor' })), 403, 'a role in the ACL counts only on the project account');
  assert.is(status(await decide({ ...me, roles: ['editor'] }, { container: 'c', object: 'o', acl: 'Editor' })), 'allowed');
  assert.is(status(await decide(them, { container: 'c', object: 'o', acl: '.r:*', referer: 'http://x/' })), 'allowed');
  assert.is(status(await decide(them, { container: 'c', acl: '.r:*', referer: 'http://x/' })), 403, 'no listing without .rlistings');
  assert.is(status(await decide(them, { container: 'c', acl: '.r:*,.rlistings', referer: 'http://x/' })), 'allowed');
});

test('container sync: the container key and an X-Timestamp', async () => {
  const them = { ...me, projectId: 'p2', roles: [] };
  assert.is(status(await decide(them, { method: 'PUT', container: 'c', object: 'o', syncKey: 'k' }, { 'x-container-sync-key': 'k', 'x-timestamp': '1.0' })), 'allowed');
  assert.is(status(await decide(them, { method: 'PUT', container: 'c', object: 'o', syncKey: 'k' }, { 'x-container-sync-key': 'k' })), 403);
});

test("the project's domain goes into a new account's sysmeta; an account made by another project gets _unknown", async () => {
  const own: Record<string, string | undefined> = {};
  await decide(me, { method: 'PUT', container: 'c' }, own);
  assert.is(own[PROJECT_DOMAIN_SYSMETA], 'default');
  const reseller = { ...me, projectId: 'p9', roles: ['reselleradmin'] };
  const theirs: Record<string, string | undefined> = {};
  await decide(reseller, { method: 'PUT', container: 'c' }, theirs);
  assert.is(theirs[PROJECT_DOMAIN_SYSMETA], UNKNOWN_DOMAIN_ID);
  const later: Record<string, string | undefined> = {};
  await decide(me, { method: 'POST' }, later, deps({ AUTH_p1: UNKNOWN_DOMAIN_ID }));
  assert.is(later[PROJECT_DOMAIN_SYSMETA], 'default', 'its own project fills it in');
  const reads: Record<string, string | undefined> = {};
  await decide(me, { method: 'PUT', container: 'c', object: 'o' }, reads);
  assert.is(reads[PROJECT_DOMAIN_SYSMETA], undefined, 'object writes leave it alone');
});

test('OPTIONS is allowed to anyone with a token', async () => {
  assert.is(status(await decide({ ...me, projectId: 'p2', roles: [] }, { method: 'OPTIONS', container: 'c' })), 'allowed');
});

test.run();
