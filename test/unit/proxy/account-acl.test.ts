import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accountAclsFromSysmeta, formatAccountAcl, parseAccountAcl } from '../../../proxy/account-acl.ts';

test("formatAccountAcl writes Python's json.dumps(sort_keys, compact, ensure_ascii)", () => {
  assert.is(formatAccountAcl({ 'read-only': ['b'], admin: ['a'] }), '{"admin":["a"],"read-only":["b"]}');
  assert.is(formatAccountAcl({ admin: ['j\u00f6rg', '\u{1f600}'] }), '{"admin":["j\\u00f6rg","\\ud83d\\ude00"]}');
  // JS objects would list integer-like keys first; Python sorts them as strings.
  assert.is(formatAccountAcl({ b: 1, 10: 2, 9: 3 }), '{"10":2,"9":3,"b":1}');
  assert.is(formatAccountAcl('read-write'), '"read-write"');
});

test('parseAccountAcl: a JSON object, {} for an empty header, undefined for anything else', () => {
  assert.equal(parseAccountAcl('{"admin":["a"]}'), { admin: ['a'] });
  assert.equal(parseAccountAcl(''), {});
  for (const bad of ['yuck', '[]', '"x"', 'null', '{']) assert.is(parseAccountAcl(bad), undefined, bad);
  assert.is(parseAccountAcl(undefined), undefined);
});

test('accountAclsFromSysmeta: the three levels, or undefined when none grants anything', () => {
  assert.equal(accountAclsFromSysmeta({ 'core-access-control': '{"read-only":["x"]}' }), { admin: [], 'read-write': [], 'read-only': ['x'] });
  assert.is(accountAclsFromSysmeta({ 'core-access-control': '{}' }), undefined);
  assert.is(accountAclsFromSysmeta({ 'core-access-control': '{"admin":[]}' }), undefined);
  assert.is(accountAclsFromSysmeta({ 'core-access-control': 'garbage' }), undefined);
  assert.is(accountAclsFromSysmeta({}), undefined);
});

test.run();
