import type { HeaderBag } from '../common/constraints.ts';
import { ConstraintError } from '../common/errors.ts';
import { backendPath, type BackendClient, type BackendNode } from '../common/http/backend-client.ts';
import type { Logger } from '../common/logger.ts';

/** Where a container server sends its account update (from the proxy's headers). */
export interface AccountUpdateTarget {
  readonly node: BackendNode;
  readonly host: string;
  readonly device: string;
}

/** The account partition and the replicas to update. */
export interface AccountUpdatePlan {
  readonly partition: string;
  readonly targets: readonly AccountUpdateTarget[];
}

/** The container's state to report (the account server's container row). */
export interface ContainerReportInfo {
  readonly put_timestamp: string;
  readonly delete_timestamp: string;
  readonly object_count: number;
  readonly bytes_used: number;
  readonly storage_policy_index: number;
}

/**
 * Reads `X-Account-Host` / `X-Account-Device` (comma-separated, one per account replica) and
 * `X-Account-Partition`. No partition means no update. Checked before anything is written,
 * so a bad request changes nothing.
 * @throws {ConstraintError} `bad_request` when hosts and devices do not pair up.
 */
export function accountUpdatePlan(headers: HeaderBag): AccountUpdatePlan {
  const hosts = (headers['x-account-host'] ?? '').split(',').map((h) => h.trim());
  const devices = (headers['x-account-device'] ?? '').split(',').map((d) => d.trim());
  const partition = headers['x-account-partition'] ?? '';
  if (hosts.length !== devices.length) {
    throw new ConstraintError('bad_request', `Account update failed: different numbers of hosts and devices in request: "${headers['x-account-host'] ?? ''}" vs "${headers['x-account-device'] ?? ''}"`);
  }
  if (partition === '') return { partition, targets: [] };
  return {
    partition,
    targets: hosts.map((host, i) => {
      const colon = host.lastIndexOf(':');
      const ip = host.slice(0, Math.max(colon, 0)).replace(/^\[(.*)\]$/, '$1');
      return { node: { ip, port: Number(host.slice(colon + 1)) }, host, device: devices[i] as string };
    }),
  };
}

/** How account updates are sent. */
export interface AccountUpdateContext {
  readonly backend: BackendClient;
  readonly logger: Logger;
  /** Time allowed for each account server to answer. */
  readonly timeoutMs: number;
}

/**
 * Swift's `account_update`: PUTs the container's row to every account replica named in the
 * request, concurrently. Failures are logged and left to the container updater.
 * @returns `not_found` when every account server answered 404 (the account does not exist;
 * the container server then answers 404), `done` otherwise.
 */
export async function sendAccountUpdate(
  plan: AccountUpdatePlan,
  ctx: AccountUpdateContext,
  request: { readonly account: string; readonly container: string; readonly headers: HeaderBag },
  info: ContainerReportInfo,
): Promise<'not_found' | 'done'> {
  if (plan.targets.length === 0) return 'done';
  const headers: Record<string, string> = {
    'X-Put-Timestamp': info.put_timestamp,
    'X-Delete-Timestamp': info.delete_timestamp,
    'X-Object-Count': String(info.object_count),
    'X-Bytes-Used': String(info.bytes_used),
    'X-Trans-Id': request.headers['x-trans-id'] ?? '-',
    'X-Backend-Storage-Policy-Index': String(info.storage_policy_index),
    'User-Agent': `container-server ${process.pid}`,
  };
  if ((request.headers['x-account-override-deleted'] ?? 'no').toLowerCase() === 'yes') headers['X-Account-Override-Deleted'] = 'yes';
  const statuses = await Promise.all(
    plan.targets.map(async (target) => {
      const where = { ip: target.node.ip, port: target.node.port, device: target.device };
      try {
        if (!Number.isInteger(target.node.port) || target.node.ip === '') throw new Error(`bad account host ${JSON.stringify(target.host)}`);
        const res = await ctx.backend.request(target.node, {
          method: 'PUT',
          path: backendPath(target.device, plan.partition, request.account, request.container),
          headers,
          timeoutMs: ctx.timeoutMs,
        });
        await res.body.dump();
        if (res.status !== 404 && (res.status < 200 || res.status > 299)) {
          ctx.logger.error('account update failed (will retry later)', { ...where, status: res.status });
        }
        return res.status;
      } catch (err) {
        ctx.logger.error('account update failed (will retry later)', { ...where, err });
        return 0;
      }
    }),
  );
  return statuses.every((s) => s === 404) ? 'not_found' : 'done';
}
