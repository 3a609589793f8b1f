import { UnknownPolicyError } from '../../common/storage-policy.ts';
import type { DiskFileManager } from './types.ts';

/**
 * The disk-file manager of each storage policy (Swift's `DiskFileRouter`): the object server
 * and the daemons pick one by the policy index a request or a job names, so each policy's
 * objects live apart (`objects`, `objects-1`, ...) with the same API.
 */
export class DiskFileRouter<M extends DiskFileManager = DiskFileManager> implements Iterable<[number, M]> {
  private readonly managers: ReadonlyMap<number, M>;

  constructor(managers: ReadonlyMap<number, M>) {
    if (!managers.has(0)) throw new TypeError('a DiskFileRouter needs policy 0');
    this.managers = managers;
  }

  /** A router with one manager, for policy 0 (a cluster without policies, tests). */
  static single<M extends DiskFileManager>(manager: M): DiskFileRouter<M> {
    return new DiskFileRouter(new Map([[0, manager]]));
  }

  /**
   * The manager of a policy index as the `X-Backend-Storage-Policy-Index` header carries it;
   * absent or empty is policy 0.
   * @throws {UnknownPolicyError} for an index with no policy here.
   */
  get(policyIndex: number | string | undefined): M {
    const index = policyIndex === undefined || policyIndex === '' ? 0 : typeof policyIndex === 'number' ? policyIndex : /^\d+$/.test(policyIndex.trim()) ? Number(policyIndex) : NaN;
    const manager = this.managers.get(index);
    if (!manager) throw new UnknownPolicyError(String(policyIndex));
    return manager;
  }

  [Symbol.iterator](): Iterator<[number, M]> {
    return this.managers.entries();
  }

  async close(): Promise<void> {
    await Promise.all([...this.managers.values()].map((m) => m.close()));
  }
}
