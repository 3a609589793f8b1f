import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WriteQueue } from '../../../../common/db/write-queue.ts';

test('exclusive tasks of one key run one at a time, in order; other keys run meanwhile', async () => {
  const queue = new WriteQueue();
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const first = queue.exclusive('a', async () => {
    events.push('a1 start');
    await gate;
    events.push('a1 end');
  });
  const second = queue.exclusive('a', async () => {
    events.push('a2');
  });
  await queue.exclusive('b', async () => {
    events.push('b');
  });
  assert.equal(events, ['a1 start', 'b']);
  release();
  await Promise.all([first, second]);
  assert.equal(events, ['a1 start', 'b', 'a1 end', 'a2']);
});

test('row updates that arrive while a commit runs go together in the next commit', async () => {
  const queue = new WriteQueue();
  const commits: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const commit = async (items: number[]): Promise<void> => {
    commits.push([...items]);
    if (commits.length === 1) await gate;
  };
  const first = queue.enqueue('k', 1, commit);
  await Promise.resolve();
  const rest = [2, 3, 4].map((i) => queue.enqueue('k', i, commit));
  release();
  await Promise.all([first, ...rest]);
  assert.equal(commits, [[1], [2, 3, 4]]);
});

test('a failed commit rejects every update in it, and the next commit still runs', async () => {
  const queue = new WriteQueue();
  const failing = [queue.enqueue('k', 1, async () => Promise.reject(new Error('disk full'))), queue.enqueue('k', 2, async () => undefined)];
  const results = await Promise.allSettled(failing);
  assert.equal(results.map((r) => r.status), ['rejected', 'rejected']);
  await queue.enqueue('k', 3, async (items) => assert.equal(items, [3]));
});

test.run();
