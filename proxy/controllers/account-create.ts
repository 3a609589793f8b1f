import { HttpError } from '../../common/http/http-error.ts';
import { makeRequests } from '../backend-requests.ts';
import type { ProxyContext } from '../context.ts';

/**
 * Creates an account on all its replicas (autocreate). Succeeds when a quorum did, or when it
 * already existed (202). `sysmeta`: the request's account sysmeta headers, which Swift's
 * autocreate carries over (keystoneauth's project domain).
 * @throws {HttpError} 503 when the account servers could not take it.
 */
export async function createAccount(ctx: ProxyContext, account: string, transId: string, sysmeta: Readonly<Record<string, string>> = {}): Promise<void> {
  const ring = ctx.rings.account;
  const headers = { ...sysmeta, 'x-timestamp': ctx.timestamps.next().internal, 'x-trans-id': transId, 'user-agent': `proxy-server ${process.pid}` };
  const { best } = await makeRequests(ctx, { ring, partition: ring.getPart(account), names: [account] }, { method: 'PUT', headersPerSlot: Array.from({ length: ring.replicas }, () => headers) });
  await ctx.info.invalidate(account);
  if (best.status < 200 || best.status >= 300) throw new HttpError(503, `could not create account ${account}`);
}
