import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFernetKey, fernetDecrypt, fernetEncrypt, FernetInvalidError, generateFernetKey } from '../../../../common/token/fernet.ts';
import { rejects } from '../../../helpers/rejects.ts';

// The Fernet spec's generate.json vector (github.com/fernet/spec), as Python's cryptography makes it.
const SPEC_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const SPEC_TOKEN = 'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
const SPEC_NOW = 499162800; // 1985-10-26T01:20:00-07:00

test('the spec vector: same token from the same key, time and IV; it opens again', () => {
  const key = decodeFernetKey(SPEC_KEY);
  const iv = Buffer.from([...Array(16).keys()]);
  const token = fernetEncrypt(key, Buffer.from('hello'), SPEC_NOW, iv);
  assert.is(token, SPEC_TOKEN.replace(/=+$/, ''));
  const opened = fernetDecrypt([key], SPEC_TOKEN);
  assert.is(opened.plaintext.toString(), 'hello');
  assert.is(opened.timestamp, SPEC_NOW);
});

test('any key of the list opens it; none other does; a changed byte is refused', async () => {
  const a = decodeFernetKey(generateFernetKey());
  const b = decodeFernetKey(generateFernetKey());
  const token = fernetEncrypt(b, Buffer.from('payload'), 1_700_000_000);
  assert.is(fernetDecrypt([a, b], token).plaintext.toString(), 'payload');
  assert.throws(() => fernetDecrypt([a], token), (err: unknown) => err instanceof FernetInvalidError);
  const bytes = Buffer.from(token, 'base64url');
  bytes[30] = (bytes[30] ?? 0) ^ 1;
  assert.throws(() => fernetDecrypt([b], bytes.toString('base64url')), (err: unknown) => err instanceof FernetInvalidError);
  for (const junk of ['', 'not a token!', 'gAAAAA', Buffer.alloc(80).toString('base64url')]) {
    assert.throws(() => fernetDecrypt([b], junk), (err: unknown) => err instanceof FernetInvalidError, junk);
  }
  await rejects(Promise.resolve().then(() => decodeFernetKey('short')), RangeError);
});

test.run();
