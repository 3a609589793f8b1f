import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { splitArgs } from '../../../common/cli-args.ts';

test('a flag given more than once keeps every value in order (start storage --config a --config b)', () => {
  const { positional, flags, repeated } = splitArgs(['storage', '--config', 'a.conf', '--no-daemons', '--config=b.conf'], new Set(['config']));
  assert.equal(positional, ['storage']);
  assert.is(flags.get('config'), 'b.conf');
  assert.equal(repeated.get('config'), ['a.conf', 'b.conf']);
  assert.equal(repeated.get('no-daemons'), ['']);
  assert.is(repeated.get('data'), undefined);
});

test.run();
