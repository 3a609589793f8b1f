import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quorumSize } from '../../../common/quorum-size.ts';
import { bestResponseIndex, haveQuorum } from '../../../proxy/quorum.ts';

test('quorum is a majority', () => {
  assert.equal([1, 2, 3, 4, 5, 6].map(quorumSize), [1, 2, 2, 3, 3, 4]);
});

/** statuses → the status the proxy answers (undefined = 503). */
const CASES: [number[], number | undefined][] = [
  [[201, 201, 201], 201],
  [[201, 201, 503], 201],
  [[503, 201, 201], 201],
  [[201, 503, 503], undefined],
  [[503, 503, 503], undefined],
  [[404, 404, 201], 404],
  [[201, 404, 404], 404],
  [[409, 404, 201], 409], // two 4xx make the quorum; the highest of the class wins
  [[204, 204, 404], 204],
  [[202, 201, 503], 202],
  [[507, 507, 201], undefined],
  [[412, 412, 412], 412],
  [[201, 201, 201, 503, 503], 201],
  [[201, 201, 503, 503, 503], undefined],
  [[201], 201],
  [[503], undefined],
];

for (const [statuses, expected] of CASES) {
  test(`best response of [${statuses}] is ${expected ?? '503'}`, () => {
    const index = bestResponseIndex(statuses);
    assert.is(index === undefined ? undefined : statuses[index], expected);
  });
}

test('haveQuorum: once a class has a majority the outcome is decided', () => {
  assert.is(haveQuorum([201], 3), false);
  assert.is(haveQuorum([201, 201], 3), true);
  assert.is(haveQuorum([201, 404], 3), false);
  assert.is(haveQuorum([404, 404], 3), true);
  assert.is(haveQuorum([503, 503], 3), false);
  assert.is(haveQuorum([201, 201, 503], 5), false);
});

test.run();
