import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nextLink } from '../../../../compute/api/next-link.ts';

const req = (query: string) => ({ base: 'http://h:8774', query: new URLSearchParams(query) });

test('the next link sorts the parameters by name and adds the marker after them, as Nova\'s OrderedDict does', () => {
  const link = nextLink(req('status=ACTIVE&limit=2&all_tenants=1'), 'servers/detail', 'u-2');
  assert.equal(link, { rel: 'next', href: 'http://h:8774/v2.1/servers/detail?all_tenants=1&limit=2&status=ACTIVE&marker=u-2' });
});

test('a marker given in the request is replaced in its sorted place, not repeated', () => {
  assert.is(nextLink(req('marker=u-1&limit=1'), 'os-keypairs', 'k-2').href, 'http://h:8774/v2.1/os-keypairs?limit=1&marker=k-2');
});

test('a parameter given twice keeps one value, the last in sorted order (a dict of the sorted pairs)', () => {
  assert.is(nextLink(req('name=b&name=a&limit=1'), 'flavors', 'f').href, 'http://h:8774/v2.1/flavors?limit=1&name=b&marker=f');
});

test.run();
