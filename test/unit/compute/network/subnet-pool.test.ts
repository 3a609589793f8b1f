import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NeutronError } from '../../../../compute/network/errors.ts';
import { allocateAny, allocateSpecific, checkPoolQuota, checkPrefixlen, readPool } from '../../../../compute/network/subnet-pool.ts';

const refusal = (fn: () => unknown): { type: string; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof NeutronError) return { type: err.type, message: err.message };
    throw err;
  }
  throw new Error('not refused');
};

const pool = (prefixes: string[], extra: Partial<{ min_prefixlen: number; max_prefixlen: number; default_quota: number | null }> = {}) => ({
  prefixes,
  ip_version: prefixes[0]?.includes(':') ? (6 as const) : (4 as const),
  min_prefixlen: 8,
  max_prefixlen: 32,
  default_quota: null,
  ...extra,
});

test('readPool: ip_version from the prefixes, prefixes compacted, bounds defaulted as SubnetPoolReader does', () => {
  assert.equal(readPool({ prefixes: ['10.0.1.0/24', '10.0.0.0/24', '10.0.0.128/25'] }), { ip_version: 4, prefixes: ['10.0.0.0/23'], min_prefixlen: 8, max_prefixlen: 32, default_prefixlen: 8 });
  assert.equal(readPool({ prefixes: ['2001:db8::/48'] }), { ip_version: 6, prefixes: ['2001:db8::/48'], min_prefixlen: 64, max_prefixlen: 128, default_prefixlen: 64 });
  assert.equal(readPool({ prefixes: ['10.0.0.0/8'], min_prefixlen: 16 }).default_prefixlen, 16, 'default_prefixlen defaults to min');
  assert.equal(readPool({ prefixes: ['10.1.0.0/16', '10.3.0.0/16'] }).prefixes, ['10.1.0.0/16', '10.3.0.0/16'], 'apart prefixes stay apart');
});

test('readPool refuses as Neutron: empty list, mixed versions, bounds out of order', () => {
  assert.equal(refusal(() => readPool({ prefixes: [] })), { type: 'EmptySubnetPoolPrefixList', message: 'Empty subnet pool prefix list.' });
  assert.equal(refusal(() => readPool({ prefixes: ['10.0.0.0/8', '2001:db8::/32'] })), { type: 'PrefixVersionMismatch', message: 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.' });
  assert.equal(refusal(() => readPool({ prefixes: ['10.0.0.0/8'], min_prefixlen: 24, max_prefixlen: 16 })).message, 'Illegal prefix bounds: min_prefixlen=24, max_prefixlen=16.');
  assert.equal(refusal(() => readPool({ prefixes: ['10.0.0.0/8'], max_prefixlen: 33 })).message, 'Illegal prefix bounds: max_prefixlen=33, ip_version_max=32.');
  assert.equal(refusal(() => readPool({ prefixes: ['10.0.0.0/8'], min_prefixlen: 16, default_prefixlen: 12 })).message, 'Illegal prefix bounds: default_prefixlen=12, min_prefixlen=16.');
  assert.equal(refusal(() => readPool({ prefixes: ['10.0.0.0/8'], max_prefixlen: 24, default_prefixlen: 26 })).message, 'Illegal prefix bounds: default_prefixlen=26, max_prefixlen=24.');
});

test('allocateAny: the first block of the size from the smallest free space that holds it; SubnetAllocationError when none does', () => {
  const p = pool(['10.0.0.0/24', '10.1.0.0/16']);
  assert.is(allocateAny(p, [], 26), '10.0.0.0/26');
  assert.is(allocateAny(p, ['10.0.0.0/26'], 26), '10.0.0.64/26');
  assert.is(allocateAny(p, ['10.0.0.0/26', '10.0.0.64/26'], 25), '10.0.0.128/25');
  assert.is(allocateAny(p, ['10.0.0.0/24'], 24), '10.1.0.0/24');
  assert.is(allocateAny(p, [], 16), '10.1.0.0/16');
  assert.equal(refusal(() => allocateAny(p, ['10.1.0.0/24'], 16)), { type: 'SubnetAllocationError', message: 'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /16.' });
});

test('allocateSpecific: a CIDR inside the free space only', () => {
  const p = pool(['10.0.0.0/24']);
  allocateSpecific(p, ['10.0.0.0/26'], '10.0.0.128/25');
  const refused = { type: 'SubnetAllocationError', message: 'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.' };
  assert.equal(refusal(() => allocateSpecific(p, ['10.0.0.0/26'], '10.0.0.0/25')), refused, 'overlaps an allocation');
  assert.equal(refusal(() => allocateSpecific(p, [], '10.9.0.0/24')), refused, 'outside the pool');
});

test('prefix length bounds and the per-project quota (units of /32 for IPv4)', () => {
  const p = pool(['10.0.0.0/16'], { min_prefixlen: 20, max_prefixlen: 28, default_quota: 512 });
  checkPrefixlen(p, 24);
  assert.equal(refusal(() => checkPrefixlen(p, 29)), { type: 'MaxPrefixSubnetAllocationError', message: 'Unable to allocate subnet with prefix length 29, maximum allowed prefix is 28.' });
  assert.equal(refusal(() => checkPrefixlen(p, 19)), { type: 'MinPrefixSubnetAllocationError', message: 'Unable to allocate subnet with prefix length 19, minimum allowed prefix is 20.' });
  checkPoolQuota(p, ['10.0.0.0/24'], 24);
  assert.equal(refusal(() => checkPoolQuota(p, ['10.0.0.0/24', '10.0.1.0/24'], 28)), { type: 'SubnetPoolQuotaExceeded', message: 'Per-project subnet pool prefix quota exceeded.' });
  checkPoolQuota({ ...p, default_quota: null }, ['10.0.0.0/17'], 17);
});

test.run();
