import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords and application-credential secrets are stored as scrypt hashes (Keystone uses
 * bcrypt; scrypt is in node:crypto and as slow by design), in a self-describing form so the
 * cost can be raised later without invalidating stored hashes:
 * `scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (base64url). Hashing runs on libuv's thread
 * pool, not on the event loop.
 */
const KEY_BYTES = 32;

/** Keystone's `[identity] max_password_length`. */
export const MAX_PASSWORD_LENGTH = 4096;

export async function hashPassword(password: string, costLog2: number): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, costLog2, 8, 1);
  return `scrypt$ln=${costLog2},r=8,p=1$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether `password` is the one `stored` was made from; false for a malformed `stored`. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return false;
  const [, ln, r, p, salt, hash] = m as unknown as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(ln), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function derive(password: string, salt: Buffer, costLog2: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** costLog2;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
