import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dispositionFormat, normalizeExpires, parseSignature, tempUrlHmac } from '../../../../proxy/middleware/tempurl-signature.ts';

const KEY = Buffer.from('mykey');
const PATH = '/v1/AUTH_account/container/object';

test('Swift documentation vectors: sha256 hex, sha512 base64, ip-limited', () => {
  // swift/common/middleware/tempurl.py module documentation.
  assert.is(tempUrlHmac({ method: 'GET', expires: 1512508563, path: PATH }, KEY, 'sha256'), '732fcac368abb10c78a4cbe95c3fab7f311584532bf779abd5074e13cbe8b88b');
  const sha512 = parseSignature('sha512:ZrSijn0GyDhsv1ltIj9hWUTrbAeE45NcKXyBaz7aPbSMvROQ4jtYH4nRAmm5ErY2X11Yc1Yhy2OMCyN3yueeXg==');
  assert.ok(sha512);
  assert.is(sha512.digest, 'sha512');
  assert.is(tempUrlHmac({ method: 'GET', expires: 1516741234, path: PATH }, KEY, 'sha512'), sha512.hex);
  assert.is(tempUrlHmac({ method: 'GET', expires: 1648082711, path: PATH, ipRange: '1.2.3.4' }, KEY, 'sha256'), '3f48476acaf5ec272acd8e99f7b5bad96c52ddba53ed27c60613711774a06f0c');
  assert.is(tempUrlHmac({ method: 'GET', expires: 1648082711, path: PATH, ipRange: '1.2.3.0/24' }, KEY, 'sha256'), '6ff81256b8a3ba11d239da51a703b9c06a56ffddeb8caab74ca83af8f73c9c83');
});

test('sha1, prefix and UTF-8 paths and keys (checked against Python hmac)', () => {
  assert.is(tempUrlHmac({ method: 'GET', expires: 1512508563, path: PATH }, KEY, 'sha1'), 'a83dcf0587a84542b5f23a7807c38ff4bcaa6924');
  assert.is(tempUrlHmac({ method: 'GET', expires: 1512508563, path: 'prefix:/v1/AUTH_account/container/pre' }, KEY, 'sha256'), '32f398a48a1a8ca6f2711efcca444100723360239733c6e7b31d868f62f66b47');
  assert.is(tempUrlHmac({ method: 'PUT', expires: 1700000000, path: '/v1/AUTH_a/c/ünï cødé' }, Buffer.from('kéy'), 'sha256'), '8219d6655c754ce515032b1dc687a0b5ba82cb80660e80218cc3a9810c6aacf0');
  assert.is(tempUrlHmac({ method: 'PUT', expires: 1700000000, path: Buffer.from('/v1/AUTH_a/c/ünï cødé') }, Buffer.from('kéy'), 'sha256'), '8219d6655c754ce515032b1dc687a0b5ba82cb80660e80218cc3a9810c6aacf0');
});

test('parseSignature: hex length picks the digest; base64 standard or URL-safe, padded or not', () => {
  assert.equal(parseSignature('a'.repeat(40)), { digest: 'sha1', hex: 'a'.repeat(40) });
  assert.equal(parseSignature('b'.repeat(64)), { digest: 'sha256', hex: 'b'.repeat(64) });
  assert.equal(parseSignature('c'.repeat(128)), { digest: 'sha512', hex: 'c'.repeat(128) });
  const bytes = Buffer.from(`fbff${'00'.repeat(30)}`, 'hex');
  const hex = bytes.toString('hex');
  assert.equal(parseSignature(`sha256:${bytes.toString('base64')}`), { digest: 'sha256', hex });
  assert.equal(parseSignature(`sha256:${bytes.toString('base64url')}`), { digest: 'sha256', hex });
  assert.equal(parseSignature(`sha256:${bytes.toString('base64').replace(/=+$/, '')}`), { digest: 'sha256', hex });
  for (const bad of ['', 'abc', 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(50), 'md5:AAAA', 'sha256:a b', 'sha256:AA=A', 'sha256:A']) {
    assert.is(parseSignature(bad), undefined, bad);
  }
});

test('normalizeExpires: integers, ISO 8601, unreadable or past is 0, absent is undefined', () => {
  const now = 1_700_000_000.5;
  assert.is(normalizeExpires(undefined, now), undefined);
  assert.is(normalizeExpires(null, now), undefined);
  assert.is(normalizeExpires('1700000100', now), 1700000100);
  assert.is(normalizeExpires(' +1700000100 ', now), 1700000100);
  assert.is(normalizeExpires('1700000000', now), 0);
  assert.is(normalizeExpires('1699999999', now), 0);
  assert.is(normalizeExpires('2030-01-02T03:04:05Z', now), Date.UTC(2030, 0, 2, 3, 4, 5) / 1000);
  assert.is(normalizeExpires('2030-1-2T3:4:5Z', now), Date.UTC(2030, 0, 2, 3, 4, 5) / 1000);
  for (const bad of ['soon', '', '2030-02-30T00:00:00Z', '2030-01-02 03:04:05', '2030-01-02T03:04:05', '1.5e12', '0x10']) assert.is(normalizeExpires(bad, now), 0, bad);
});

test('dispositionFormat quotes as Swift does', () => {
  assert.is(dispositionFormat('attachment', 'My Test File.pdf'), `attachment; filename="My Test File.pdf"; filename*=UTF-8''My%20Test%20File.pdf`);
  assert.is(dispositionFormat('inline', 'a/"b";ü'), `inline; filename="a/%22b%22%3B%C3%BC"; filename*=UTF-8''a/%22b%22%3B%C3%BC`);
});

test.run();
