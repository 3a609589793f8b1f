import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultResultPath } from '../../../bench/result.ts';

test('the default result file is bench/results/<scenario>-<UTC time>.json', () => {
  const path = defaultResultPath('small', Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.is(path, join(import.meta.dirname, '..', '..', '..', 'bench', 'results', 'small-20260102-030405.json'));
});

test.run();
