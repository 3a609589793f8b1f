import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Timestamp } from '../../../../common/timestamp.ts';
import { splitVersionName, splitVersionsContainerName, versionsContainerName, versionsObjectName, versionsObjectPrefix } from '../../../../proxy/middleware/object-versioning-names.ts';
import { buildListing } from '../../../../proxy/middleware/object-versions-listing.ts';

test('hidden names: \\0versions\\0<container>, \\0<object>\\0<inverted timestamp>', () => {
  assert.is(versionsContainerName('photos'), '\u0000versions\u0000photos');
  assert.is(splitVersionsContainerName('\u0000versions\u0000photos'), 'photos');
  assert.is(splitVersionsContainerName('photos'), 'photos');
  assert.is(splitVersionsContainerName('\u0000other\u0000photos'), '\u0000other\u0000photos');
  const name = versionsObjectName('a/b', Timestamp.parse('1700000000.12345'));
  assert.is(name, '\u0000a/b\u00008299999999.87654');
  assert.ok(name.startsWith(versionsObjectPrefix('a/b')));
  assert.equal(splitVersionName(name), { object: 'a/b', version: Timestamp.parse('1700000000.12345') });
  assert.ok(versionsObjectName('o', Timestamp.parse('1700000001')) < versionsObjectName('o', Timestamp.parse('1700000000')), 'newer versions list first');
});

test('a name that is not a version has none', () => {
  for (const name of ['plain', '\u0000o', '\u0000o\u0000', '\u0000o\u0000not-a-time', '\u0000a\u0000b\u0000c']) assert.equal(splitVersionName(name), { object: name }, JSON.stringify(name));
});

test('buildListing sorts by name or subdir, keeps ties in order both ways, and cuts at the limit', () => {
  const rows = [{ name: 'b', v: 1 }, { subdir: 'a/' }, { name: 'b', v: 2 }, { name: 'c' }];
  assert.equal(buildListing(rows, false, 10), [{ subdir: 'a/' }, { name: 'b', v: 1 }, { name: 'b', v: 2 }, { name: 'c' }]);
  assert.equal(buildListing(rows, true, 3), [{ name: 'c' }, { name: 'b', v: 1 }, { name: 'b', v: 2 }]);
});

test.run();
