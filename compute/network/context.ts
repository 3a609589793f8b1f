import type { ValidatedToken } from '../../common/token/token-validator.ts';

/**
 * Who is asking, as keystonemiddleware and oslo.context give Neutron: the token's user, its
 * project (none for a domain- or system-scoped token), its role names, and `isAdmin` when one
 * of them is `admin` (Neutron's `context_is_admin`: `role:admin`).
 */
export interface NetworkContext {
  readonly userId: string;
  readonly projectId: string | undefined;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
}

export function contextFromToken(token: ValidatedToken): NetworkContext {
  const roles = token.roles.map((r) => r.name);
  return {
    userId: token.userId,
    projectId: token.scope.kind === 'project' ? token.scope.projectId : undefined,
    roles,
    isAdmin: roles.includes('admin'),
  };
}
