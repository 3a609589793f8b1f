import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withoutStackTraces } from '../../../common/without-stack-traces.ts';

test('errors made inside have no stack, and stacks are back after it, even when it throws', () => {
  const inside = withoutStackTraces(() => new Error('expected'));
  assert.is(inside.message, 'expected');
  assert.not.match(inside.stack ?? '', /\n\s+at /);
  assert.throws(() =>
    withoutStackTraces(() => {
      throw new Error('passes through');
    }),
  );
  assert.match(new Error('after').stack ?? '', /\n\s+at /);
});

test.run();
