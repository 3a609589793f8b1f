import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIni, validateConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';
import { policyString, StoragePolicies, storagePolicySchema, UnknownPolicyError } from '../../../common/storage-policy.ts';

const fromIni = (text: string): StoragePolicies => StoragePolicies.fromConfig(validateConfig(parseIni(text), { 'storage-policy:*': storagePolicySchema })['storage-policy:*']);

test('no [storage-policy:N] section: one policy, Policy-0, the default (clusters made before policies)', () => {
  const policies = fromIni('[swift-hash]\nswift_hash_path_suffix = x\n');
  assert.is(policies.size, 1);
  assert.is(policies.default.index, 0);
  assert.is(policies.default.name, 'Policy-0');
  assert.equal(policies.info(), [{ name: 'Policy-0', aliases: 'Policy-0', default: true }]);
});

test('sections become policies: names and aliases found in any case, /info lists those not deprecated', () => {
  const policies = fromIni(`
[storage-policy:0]
name = gold
aliases = yellow, orange
default = yes
[storage-policy:1]
name = silver
[storage-policy:2]
name = bronze
deprecated = yes
`);
  assert.is(policies.size, 3);
  assert.is(policies.default.name, 'gold');
  assert.is(policies.byName('ORANGE')?.index, 0);
  assert.is(policies.byName('Silver')?.index, 1);
  assert.is(policies.byName('platinum'), undefined);
  assert.is(policies.byIndex('2')?.isDeprecated, true);
  assert.is(policies.byIndex(undefined)?.name, 'gold', 'no index header is policy 0');
  assert.is(policies.byIndex(''), policies.byIndex(0));
  assert.is(policies.byIndex('7'), undefined);
  assert.is(policies.byIndex('1.5'), undefined);
  assert.throws(() => policies.requireIndex('9'), (err: unknown) => err instanceof UnknownPolicyError && err.message === 'No policy with index 9');
  assert.equal(policies.info(), [
    { name: 'gold', aliases: 'gold, yellow, orange', default: true },
    { name: 'silver', aliases: 'silver' },
  ]);
  assert.equal([...policies.names()], [[0, 'gold'], [1, 'silver'], [2, 'bronze']]);
});

test('a single configured policy is the default without saying so', () => {
  const policies = fromIni('[storage-policy:0]\nname = only\n');
  assert.is(policies.default.name, 'only');
  assert.is(policies.default.isDefault, true);
});

test('bad policy configs are refused as Swift refuses them, naming the section', () => {
  const cases: [string, RegExp][] = [
    ['[storage-policy:1]\nname = silver\n', /storage-policy:0.*section for policy index 0/],
    ['[storage-policy:0]\nname = a\n[storage-policy:1]\nname = b\n', /unable to find the default policy/],
    ['[storage-policy:0]\nname = a\ndefault = yes\n[storage-policy:1]\nname = b\ndefault = yes\n', /storage-policy:1\.default.*duplicate default/],
    ['[storage-policy:0]\nname = a\ndefault = yes\n[storage-policy:1]\nname = A\n', /storage-policy:1\.name.*duplicate name/],
    ['[storage-policy:0]\nname = a\ndefault = yes\n[storage-policy:1]\nname = b\naliases = A\n', /duplicate name/],
    ['[storage-policy:0]\nname = a\ndefault = yes\ndeprecated = yes\n', /deprecated policy can not be the default/],
    ['[storage-policy:0]\nname = a\ndeprecated = yes\n', /not deprecated/],
    ['[storage-policy:0]\nname = a b\n', /letters, digits and -/],
    ['[storage-policy:0]\n', /needs a name/],
    ['[storage-policy:0]\nname = a\ndefault = yes\n[storage-policy:1]\nname = policy-0\n', /reserved for policy index 0/],
    ['[storage-policy:x]\nname = a\n', /storage-policy:x.*invalid index/],
    ['[storage-policy:0]\nname = a\naliases = b, B\n', /already assigned to this policy/],
    ['[storage-policy:0]\nname = a\npolicy_type = erasure_coding\n', /storage-policy:0\.policy_type.*expected one of replication/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => fromIni(text), (err: unknown) => err instanceof ConfigError && pattern.test(err.message), text);
  }
});

test('policyString names policy N\'s directories and rings as Swift does', () => {
  assert.is(policyString('objects', 0), 'objects');
  assert.is(policyString('objects', 1), 'objects-1');
  assert.is(policyString('async_pending', 12), 'async_pending-12');
});

test.run();
