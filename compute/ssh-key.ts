import { createHash, generateKeyPairSync } from 'node:crypto';
import { SwiftError } from '../common/errors.ts';

/** An OpenSSH public key line Nova cannot read ("Keypair data is invalid: failed to generate fingerprint"). */
export class InvalidPublicKey extends SwiftError {
  constructor() {
    super('INVALID_PUBLIC_KEY', 'failed to generate fingerprint');
  }
}

/** The key types OpenSSH (and pyca/cryptography's `load_ssh_public_key`) reads. */
const KEY_TYPES = new Set(['ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']);

/** The length-prefixed strings of an SSH wire blob (RFC 4251). */
function wireStrings(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) throw new InvalidPublicKey();
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) throw new InvalidPublicKey();
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/**
 * Nova's `generate_fingerprint`: the MD5 of the key's blob as colon-separated hex, after checking
 * that the line is an OpenSSH public key whose blob names its own type and has its parts.
 * @throws {InvalidPublicKey}
 */
export function sshFingerprint(publicKey: string): string {
  const [type, data] = publicKey.trim().split(/\s+/);
  if (type === undefined || data === undefined || !KEY_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new InvalidPublicKey();
  const blob = Buffer.from(data, 'base64');
  const parts = wireStrings(blob);
  const expected = type === 'ssh-rsa' ? 3 : type === 'ssh-dss' ? 5 : type === 'ssh-ed25519' ? 2 : 3;
  if (parts[0]?.toString() !== type || parts.length !== expected) throw new InvalidPublicKey();
  if (type === 'ssh-ed25519' && parts[1]?.length !== 32) throw new InvalidPublicKey();
  const hex = createHash('md5').update(blob).digest('hex');
  return hex.match(/../g)?.join(':') ?? '';
}

function wireString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An SSH mpint: big-endian, with a zero byte before a high bit. */
function mpint(b64url: string): Buffer {
  let b = Buffer.from(b64url, 'base64url');
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return wireString(b);
}

/**
 * Nova's `generate_key_pair`: a 2048-bit RSA key, the private half as PEM (PKCS#1, what paramiko
 * writes), the public half as an OpenSSH line ending `Generated-by-Nova`, and its fingerprint.
 */
export function generateSshKeyPair(bits = 2048): { privateKey: string; publicKey: string; fingerprint: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const blob = Buffer.concat([wireString(Buffer.from('ssh-rsa')), mpint(jwk.e), mpint(jwk.n)]);
  const line = `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`;
  return { privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, publicKey: line, fingerprint: sshFingerprint(line) };
}
