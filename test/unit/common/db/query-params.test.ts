import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isTrueValue, listingQuery, QueryParams } from '../../../../common/db/query-params.ts';
import { ConstraintError } from '../../../../common/errors.ts';

test('QueryParams reads like parse_qsl + get_param: + is space, escapes, blanks kept, last wins', () => {
  const q = new QueryParams('prefix=a+b%2Fc&marker=&flag&limit=1&limit=2&name=caf%C3%A9');
  assert.is(q.get('prefix'), 'a b/c');
  assert.is(q.get('marker'), '');
  assert.is(q.get('flag'), '');
  assert.is(q.get('limit'), '2');
  assert.is(q.get('name'), 'caf\u00e9');
  assert.is(q.get('absent'), undefined);
  assert.throws(() => new QueryParams('prefix=%FF').get('prefix'), (err: unknown) => err instanceof ConstraintError && err.message === '"prefix" parameter not valid UTF-8');
});

test('listingQuery: limit rules, delimiter rules, reverse, path only where allowed', () => {
  const q = (s: string, withPath = true) => listingQuery(new QueryParams(s), 10_000, withPath);
  assert.equal(q(''), { limit: 10_000, marker: '', reverse: false });
  assert.is(q('limit=0').limit, 0);
  assert.is(q('limit=-5').limit, 10_000, 'not all digits: ignored, as Swift does');
  assert.is(q('limit=10000').limit, 10_000);
  assert.throws(() => q('limit=10001'), (err: unknown) => err instanceof ConstraintError && err.kind === 'precondition' && err.message === 'Maximum limit is 10000');
  assert.is(q('delimiter=-%26').delimiter, '-&', 'regression (multi-character delimiters were 412 "Bad delimiter"): Swift 2.30 takes any delimiter');
  assert.is(q('delimiter=%C4%80').delimiter, '\u0100');
  assert.is(q('delimiter=%C3%BE').delimiter, '\u00fe');
  assert.equal(q('path=a&prefix=p&end_marker=z&reverse=yes'), { limit: 10_000, marker: '', endMarker: 'z', prefix: 'p', path: 'a', reverse: true });
  assert.is(q('path=a', false).path, undefined);
  assert.ok(isTrueValue('On') && isTrueValue('t') && !isTrueValue('nope') && !isTrueValue(undefined));
});

test.run();
