import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SwiftError } from '../errors.ts';

/**
 * Fernet (https://github.com/fernet/spec), the envelope of Keystone's tokens: AES-128-CBC with
 * PKCS#7 padding, authenticated by HMAC-SHA256, under a 32-byte key whose first half signs and
 * second half encrypts. A token is the URL-safe base64 of
 * `0x80 | timestamp (8 bytes, seconds, big-endian) | IV (16) | ciphertext | HMAC (32)`;
 * Keystone leaves the `=` padding off, and so do we.
 */
const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC = 32;

/** A token that no key opens, or that is not a Fernet token at all. */
export class FernetInvalidError extends SwiftError {
  constructor(problem: string) {
    super('FERNET_INVALID', `not a valid Fernet token: ${problem}`);
  }
}

/** A key as Keystone's key files hold it: URL-safe base64 of 32 random bytes. */
export function generateFernetKey(): string {
  return `${randomBytes(32).toString('base64url')}=`;
}

/** The 32 bytes of a key file's text. @throws {RangeError} for anything else. */
export function decodeFernetKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length !== 32) throw new RangeError('a Fernet key is 32 bytes of URL-safe base64');
  return key;
}

/** Encrypts `plaintext` under `key` (32 bytes), stamped with `nowSeconds`; `iv` only for tests. */
export function fernetEncrypt(key: Buffer, plaintext: Uint8Array, nowSeconds: number, iv: Buffer = randomBytes(16)): string {
  const cipher = createCipheriv('aes-128-cbc', key.subarray(16, 32), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const header = Buffer.alloc(HEADER);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(Math.floor(nowSeconds)), 1);
  iv.copy(header, 9);
  const signed = Buffer.concat([header, ciphertext]);
  const mac = createHmac('sha256', key.subarray(0, 16)).update(signed).digest();
  return Buffer.concat([signed, mac]).toString('base64url');
}

/**
 * Opens a token with the first of `keys` whose signature matches (Keystone's MultiFernet: the
 * primary key first, then the secondary and staged ones). Returns the plaintext and the token's
 * timestamp in seconds. No age check here: Keystone's tokens carry their own expiry.
 * @throws {FernetInvalidError}
 */
export function fernetDecrypt(keys: readonly Buffer[], token: string): { plaintext: Buffer; timestamp: number } {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw new FernetInvalidError('not URL-safe base64');
  const data = Buffer.from(token, 'base64url');
  if (data.length < HEADER + 16 + MAC || (data.length - HEADER - MAC) % 16 !== 0) throw new FernetInvalidError('wrong length');
  if (data[0] !== VERSION) throw new FernetInvalidError('unknown version');
  const signed = data.subarray(0, data.length - MAC);
  const mac = data.subarray(data.length - MAC);
  for (const key of keys) {
    const expected = createHmac('sha256', key.subarray(0, 16)).update(signed).digest();
    if (!timingSafeEqual(expected, mac)) continue;
    const decipher = createDecipheriv('aes-128-cbc', key.subarray(16, 32), data.subarray(9, HEADER));
    try {
      const plaintext = Buffer.concat([decipher.update(data.subarray(HEADER, data.length - MAC)), decipher.final()]);
      return { plaintext, timestamp: Number(data.readBigUInt64BE(1)) };
    } catch {
      throw new FernetInvalidError('bad padding');
    }
  }
  throw new FernetInvalidError('no key matches its signature');
}
