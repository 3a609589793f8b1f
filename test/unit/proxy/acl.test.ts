import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConstraintError } from '../../../common/errors.ts';
import { cleanAcl, parseAcl, referrerAllowed } from '../../../proxy/acl.ts';

test("cleanAcl tidies ACLs as Swift's clean_acl does", () => {
  const cases: [string, string][] = [
    ['bob, sue', 'bob,sue'],
    ['bob , sue', 'bob,sue'],
    ['bob,,,sue', 'bob,sue'],
    ['.referrer : *', '.r:*'],
    ['.ref:*.example.com', '.r:.example.com'],
    ['.r:*, .rlistings', '.r:*,.rlistings'],
    ['.r:-thief.com', '.r:-thief.com'],
    ['.r: - .thief.com', '.r:-.thief.com'],
    ['test:tester3', 'test:tester3'],
    ['', ''],
  ];
  for (const [given, cleaned] of cases) assert.is(cleanAcl('X-Container-Read', given), cleaned, given);
});

test('cleanAcl refuses what Swift refuses, with its messages', () => {
  const cases: [string, string, string][] = [
    ['X-Container-Read', '.r:', "No host/domain value after referrer designation in ACL: '.r:'"],
    ['X-Container-Read', '.r:-', "No host/domain value after referrer designation in ACL: '.r:-'"],
    ['X-Container-Read', '.r:*.', "No host/domain value after referrer designation in ACL: '.r:*.'"],
    ['X-Container-Read', 'bob,.referer:', "No host/domain value after referrer designation in ACL: '.referer:'"],
    ['X-Container-Write', '.r:*', "Referrers not allowed in write ACL: '.r:*'"],
    ['X-Container-Read', '.rlistings:x', "Unknown designator '.rlistings' in ACL: '.rlistings:x'"],
  ];
  for (const [name, value, message] of cases) {
    assert.throws(() => cleanAcl(name, value), (err: unknown) => err instanceof ConstraintError && err.kind === 'bad_request' && err.message === message, value);
  }
});

test('parseAcl splits referrers from groups; a percent-encoded group is decoded', () => {
  assert.equal(parseAcl('.r:*,.rlistings,test:tester3,.r:-bad.com,test%3Atester2'), { referrers: ['*', '-bad.com'], groups: ['.rlistings', 'test:tester3', 'test:tester2'] });
  assert.equal(parseAcl(undefined), { referrers: [], groups: [] });
});

test("regression (a referrer rule written *.example.com never matched): it means .example.com, as Swift's clean_acl stores it, negated too", () => {
  const acl = parseAcl('.r:*.example.com,.rlistings');
  assert.equal(acl, { referrers: ['.example.com'], groups: ['.rlistings'] });
  assert.ok(referrerAllowed('http://blah.example.com/page', acl.referrers));
  assert.not.ok(referrerAllowed('http://example.org/', acl.referrers));
  const excluded = parseAcl('.r:*, .r:-*.thief.com');
  assert.equal(excluded.referrers, ['*', '-.thief.com']);
  assert.not.ok(referrerAllowed('http://www.thief.com/', excluded.referrers));
  assert.ok(referrerAllowed('http://honest.org/', excluded.referrers));
});

test.run();
