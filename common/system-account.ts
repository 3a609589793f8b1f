/**
 * System accounts: accounts whose name starts with `.` after the reseller prefix
 * (`AUTH_.identity`). Swift's tempauth lets only their own owner in, not even reseller admins
 * (`_dot_account`), which makes them the home of the services' records (DESIGN.md, "The
 * services on the cluster"). The proxy offers them conditional writes that Swift does not
 * offer anyone: `If-Match` on PUT and DELETE (docs/decisions.md, "Records in the cluster").
 */
export function isSystemAccount(account: string): boolean {
  if (account.startsWith('.')) return true;
  const underscore = account.indexOf('_');
  return underscore !== -1 && account[underscore + 1] === '.';
}

/**
 * How the proxy hands a system account's `If-Match` on a write to the object servers. A
 * backend header, so a client cannot send it itself (the gatekeeper removes `X-Backend-*`).
 */
export const BACKEND_IF_MATCH = 'x-backend-if-match';
