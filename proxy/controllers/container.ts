import { checkContainerName, checkMetadata } from '../../common/constraints.ts';
import { allowsReservedNames } from '../../common/reserved-name.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { type BackendReply, isReadSource, makeRequests, readFromNodes } from '../backend-requests.ts';
import type { ProxyContext } from '../context.ts';
import { backendQuery, type ProxyRequest } from '../request.ts';
import { createAccount } from './account-create.ts';
import { spreadUpdateHeaders } from '../../common/http/update-headers.ts';
import { cleanAcl } from '../acl.ts';
import { authorize, backendHeaders, isNewest, OWNER_HEADERS, passHeaders, plainTextRefusal, writeTimestamp } from './shared.ts';

/**
 * The container controller: GET/HEAD (listing, counts; authorized against the read ACL the
 * container returns), PUT (creating the account first when `account_autocreate` is on), POST
 * (metadata, ACLs), DELETE (409 unless empty). Writes tell the account servers through
 * `X-Account-*` headers, spread so each account replica hears from one container replica.
 */
export async function containerRequest(ctx: ProxyContext, req: ProxyRequest, account: string, container: string): Promise<ServerResponse> {
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return read(ctx, req, account, container);
    case 'PUT':
      return put(ctx, req, account, container);
    case 'POST':
    case 'DELETE':
      return writeExisting(ctx, req, account, container);
    default:
      throw new HttpError(405, undefined, { Allow: CONTAINER_METHODS.join(', ') });
  }
}

/** The methods a container answers (Swift's `allowed_methods`). */
export const CONTAINER_METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'];

async function read(ctx: ProxyContext, req: ProxyRequest, account: string, container: string): Promise<ServerResponse> {
  const ring = ctx.rings.container;
  const result = await readFromNodes(ctx, { ring, partition: ring.getPart(account, container), names: [account, container] }, { method: req.method, query: backendQuery(req), headers: backendHeaders(req) }, { newest: isNewest(req), timestampHeader: 'x-put-timestamp', signal: req.signal });
  const headers = isReadSource(result) ? result.response.headers : result.headers;
  let owner: boolean;
  try {
    owner = await authorize(req, { method: req.method, account, container, ...(headers['x-container-read'] !== undefined ? { acl: headers['x-container-read'] } : {}) });
  } catch (err) {
    if (isReadSource(result)) await result.response.body.dump();
    throw err;
  }
  const shown = passHeaders(headers, owner ? [] : OWNER_HEADERS);
  const status = isReadSource(result) ? result.response.status : result.status;
  const index = headers['x-backend-storage-policy-index'];
  // Swift names the policy on success only (a deleted container's 404 has an index too).
  if (status >= 200 && status < 300 && index !== undefined) {
    const policy = ctx.policies.byIndex(index);
    if (policy) shown['X-Storage-Policy'] = policy.name;
    else req.env.logger.error('could not translate X-Backend-Storage-Policy-Index to a policy', { index, account, container });
  }
  if (isReadSource(result)) return { status: result.response.status, headers: shown, body: req.method === 'HEAD' ? null : result.response.body };
  return { status: result.status, headers: shown, body: req.method === 'HEAD' ? null : result.body };
}

async function put(ctx: ProxyContext, req: ProxyRequest, account: string, container: string): Promise<ServerResponse> {
  checkContainerName(container, ctx.constraints, allowsReservedNames(req.headers));
  cleanAcls(req);
  plainTextRefusal(() => checkMetadata(req.headers, 'container', ctx.constraints));
  const policyIndex = requestedPolicy(ctx, req);
  if (!(await authorize(req, { method: 'PUT', account, container }))) dropOwnerHeaders(req);
  let accountInfo = await ctx.info.account(account, req.env.transId);
  if (accountInfo.status === 404 && ctx.config.account_autocreate) {
    await createAccount(ctx, account, req.env.transId, accountSysmeta(req.headers));
    accountInfo = await ctx.info.account(account, req.env.transId);
  }
  if (accountInfo.status === 404) throw new HttpError(404);
  if (accountInfo.status >= 300) throw new HttpError(503);
  const limit = ctx.config.max_containers_per_account;
  if (limit > 0 && accountInfo.containerCount >= limit) {
    const existing = await ctx.info.container(account, container, req.env.transId);
    if (existing.status === 404) throw new HttpError(403, `Reached container limit of ${limit}`);
  }
  // No policy named: the container servers keep an existing container's, or give a new one the default.
  const policyHeader: Record<string, string> = policyIndex === undefined ? { 'x-backend-storage-policy-default': String(ctx.policies.default.index) } : { 'x-backend-storage-policy-index': String(policyIndex) };
  const first = await write(ctx, req, account, container, policyHeader);
  if (first.best.status !== 404 || !ctx.config.account_autocreate) return clientReply(first.best);
  // The container servers answer 404 when their account servers do not have the account. The
  // account info found it on some replica, so an autocreate cut short (no quorum, then
  // retried) left it on too few for any container PUT to succeed until the account replicator
  // runs. Swift waits for the replicator; creating it again on every replica (those that have
  // it answer 202) lets this PUT succeed now. The container servers made the database before
  // their 404, so the second PUT finds it: it is still this request's creation (201) if the
  // first one made it anywhere. An account that cannot be created (being deleted, servers
  // down) keeps Swift's answer.
  try {
    await createAccount(ctx, account, req.env.transId, accountSysmeta(req.headers));
  } catch {
    return clientReply(first.best);
  }
  const again = await write(ctx, req, account, container, policyHeader);
  const createdByFirst = first.replies.some((r) => r.status === 201);
  return clientReply(again.best.status === 202 && createdByFirst ? { ...again.best, status: 201 } : again.best);
}

/**
 * The policy index a container PUT names in `X-Storage-Policy` (Swift's
 * `_convert_policy_to_index`); undefined when it names none (absent or empty).
 * @throws {HttpError} 400 for an unknown or deprecated policy, with Swift's bodies.
 */
function requestedPolicy(ctx: ProxyContext, req: ProxyRequest): number | undefined {
  const name = req.headers['x-storage-policy'];
  if (name === undefined || name === '') return undefined;
  const policy = ctx.policies.byName(name);
  if (!policy) throw new HttpError(400, `Invalid X-Storage-Policy '${name}'`, { 'Content-Type': 'text/plain' });
  if (policy.isDeprecated) throw new HttpError(400, `Storage Policy '${policy.name}' is deprecated`);
  return policy.index;
}

async function writeExisting(ctx: ProxyContext, req: ProxyRequest, account: string, container: string): Promise<ServerResponse> {
  if (req.method === 'POST') {
    cleanAcls(req);
    plainTextRefusal(() => checkMetadata(req.headers, 'container', ctx.constraints));
  }
  if (!(await authorize(req, { method: req.method, account, container }))) dropOwnerHeaders(req);
  const accountInfo = await ctx.info.account(account, req.env.transId);
  if (accountInfo.status === 404) throw new HttpError(404);
  const { best } = await write(ctx, req, account, container, {});
  return clientReply(best);
}

/** The best backend reply as the client gets it: an error keeps its body (a 400's reason). */
function clientReply(reply: BackendReply): ServerResponse {
  const headers = passHeaders(reply.headers, ['content-length']);
  return reply.status >= 400 && reply.body.length > 0 ? { status: reply.status, headers, body: reply.body } : { status: reply.status, headers };
}

async function write(ctx: ProxyContext, req: ProxyRequest, account: string, container: string, extra: Record<string, string>): Promise<{ best: BackendReply; replies: BackendReply[] }> {
  const ring = ctx.rings.container;
  const base = backendHeaders(req, { 'x-timestamp': writeTimestamp(req, ctx).internal, ...extra });
  const accountRing = ctx.rings.account;
  const accountPart = accountRing.getPart(account);
  const updates = req.method === 'POST' ? [] : spreadUpdateHeaders(ring.replicas, 'Account', accountPart, accountRing.getPartNodes(accountPart));
  const headersPerSlot = Array.from({ length: ring.replicas }, (_, i) => ({ ...base, ...updates[i] }));
  const result = await makeRequests(ctx, { ring, partition: ring.getPart(account, container), names: [account, container] }, { method: req.method, headersPerSlot }, req.signal);
  await Promise.all([ctx.info.invalidate(account, container), ctx.info.invalidate(account)]);
  return result;
}

/**
 * Swift's `clean_acls`: the ACL headers of a PUT or POST as they will be stored.
 * @throws {ConstraintError} 400 for an ACL Swift refuses (e.g. `.r:` with no host).
 */
function cleanAcls(req: ProxyRequest): void {
  removeHeaders(req);
  for (const name of ['x-container-read', 'x-container-write']) {
    const value = req.headers[name];
    if (value !== undefined) req.headers[name] = cleanAcl(name, value);
  }
}

/** The headers a container keeps that `X-Remove-<name>` clears (Swift's `_x_remove_headers`). */
const REMOVABLE = ['x-container-read', 'x-container-write', 'x-container-sync-key', 'x-container-sync-to', 'x-versions-location'];

/**
 * Swift's `transfer_headers`: `X-Remove-Container-Read: x` is `X-Container-Read: ''` (an empty
 * value clears a kept header); before the owner-only headers are dropped, so only an owner
 * removes an ACL.
 */
function removeHeaders(req: ProxyRequest): void {
  for (const name of REMOVABLE) {
    const remove = `x-remove-${name.slice('x-'.length)}`;
    if (req.headers[remove] === undefined) continue;
    delete req.headers[remove];
    req.headers[name] = '';
  }
}

/** Someone other than the owner (an account ACL's read-write user) may not set ACLs or keys; Swift drops them. */
function dropOwnerHeaders(req: ProxyRequest): void {
  for (const name of OWNER_HEADERS) delete req.headers[name];
}

/** The request's account sysmeta (an auth middleware's), which an autocreated account keeps, as Swift's `_autocreate_account` does. */
function accountSysmeta(headers: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && name.startsWith('x-account-sysmeta-')) out[name] = value;
  return out;
}
