import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { newPassword } from '../../../cli/new-password.ts';

// CI failed when the aio's admin password began with `-`: `glance --os-password -Xy...` made
// argparse report "expected one argument". base64url passwords did so one time in 64.
test('aio passwords never start with a dash (glance: argument --os-password: expected one argument)', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const p = newPassword();
    assert.ok(/^[0-9a-f]{32}$/.test(p), p);
    seen.add(p);
  }
  assert.is(seen.size, 2000, 'each draw is new');
});

test.run();
