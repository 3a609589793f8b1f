import { randomBytes } from 'node:crypto';

/**
 * A generated password for a user who will type or paste it: 128 random bits as hex. Never
 * base64url: one in 64 of those starts with `-`, and argparse (openstack, glance, swift) then
 * reads `--os-password -x...` as a missing value and another option.
 */
export function newPassword(): string {
  return randomBytes(16).toString('hex');
}
