import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rmdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimDirectory, DirectoryClaimedError } from '../../../common/claim-directory.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

/** One process per directory on a host (a storage node's devices, a volume service's volumes). */

const MODULE = new URL('../../../common/claim-directory.ts', import.meta.url).href;

async function refusal(dir: string, options?: { askTimeoutMs?: number }): Promise<DirectoryClaimedError> {
  const err = await claimDirectory(dir, options).then(
    async (claim) => {
      await claim.release();
      return undefined;
    },
    (e: unknown) => e,
  );
  assert.instance(err, DirectoryClaimedError);
  return err as DirectoryClaimedError;
}

/**
 * Another process that claims `dir`, then runs `then` (JavaScript, in the child); its first line
 * out is `held <pid of a child it started>`: a child that outlives it must not keep its claim.
 */
async function holder(dir: string, then: string): Promise<{ child: ChildProcess & { pid: number }; grandchild: number; closed: Promise<unknown> }> {
  const script = [
    `import { spawn } from 'node:child_process';`,
    `import { claimDirectory } from ${JSON.stringify(MODULE)};`,
    `await claimDirectory(${JSON.stringify(dir)});`,
    `const sleeper = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });`,
    `sleeper.unref();`,
    `console.log('held', sleeper.pid);`,
    then,
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }) as ChildProcess & { pid: number };
  const closed = new Promise((resolve) => child.once('close', resolve));
  const grandchild = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /held (\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('close', () => reject(new Error('the holder exited early')));
  });
  return { child, grandchild, closed };
}

test('a directory claimed once is refused to a second claim under any spelling (symlink, trailing slash), naming the holder\'s pid, until released', async () => {
  const tmp = await makeTempDir('swiftlet-claim-');
  try {
    const dir = join(tmp.path, 'devs');
    await mkdir(dir);
    await mkdir(join(tmp.path, 'other'));
    await symlink(dir, join(tmp.path, 'alias'));
    const first = await claimDirectory(dir);
    for (const spelling of [dir, `${dir}/`, join(tmp.path, 'alias'), join(tmp.path, 'alias', '.')]) {
      const err = await refusal(spelling);
      assert.is(err.pid, process.pid, spelling);
      assert.match(err.message, new RegExp(`held by pid ${process.pid}`));
    }
    const other = await claimDirectory(join(tmp.path, 'other'));
    await other.release();
    await first.release();
    await first.release(); // twice is fine
    const again = await claimDirectory(`${dir}/`);
    await again.release();
    const missing = await claimDirectory(join(tmp.path, 'missing')).then(() => undefined, (e: unknown) => e);
    assert.is((missing as NodeJS.ErrnoException).code, 'ENOENT');
  } finally {
    await tmp.remove();
  }
});

test('a directory removed and made again at the same inode number is a new claim: one this process left on the old one does not refuse it', async () => {
  const tmp = await makeTempDir('swiftlet-claim-');
  try {
    const dir = join(tmp.path, 'devs');
    await mkdir(dir);
    const leaked = await claimDirectory(dir);
    await rmdir(dir);
    // ext4 hands the freed inode number straight back (so a name of device and inode alone collided).
    await mkdir(dir);
    const fresh = await claimDirectory(dir);
    await fresh.release();
    await leaked.release();
  } finally {
    await tmp.remove();
  }
});

test('another process holding the directory refuses this one with its pid; its SIGKILL frees the directory at once, though a child it started lives on', async () => {
  const tmp = await makeTempDir('swiftlet-claim-');
  let grandchild: number | undefined;
  try {
    const dir = join(tmp.path, 'devs');
    await mkdir(dir);
    const held = await holder(dir, 'setInterval(() => {}, 60_000);');
    grandchild = held.grandchild;
    assert.is((await refusal(dir)).pid, held.child.pid);
    held.child.kill('SIGKILL');
    await held.closed;
    process.kill(grandchild, 0); // still alive
    const after = await claimDirectory(dir);
    await after.release();
  } finally {
    if (grandchild !== undefined) process.kill(grandchild, 'SIGKILL');
    await tmp.remove();
  }
});

test('a holder too busy to tell its pid still refuses, within the asking time, naming no pid', async () => {
  const tmp = await makeTempDir('swiftlet-claim-');
  let grandchild: number | undefined;
  try {
    const dir = join(tmp.path, 'devs');
    await mkdir(dir);
    // Its one thread blocked (not spinning): the kernel accepts the connection, no one answers.
    const held = await holder(dir, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);');
    grandchild = held.grandchild;
    const started = performance.now();
    const err = await refusal(dir, { askTimeoutMs: 200 });
    assert.is(err.pid, undefined);
    assert.match(err.message, /held by another process/);
    assert.ok(performance.now() - started < 2000, 'bounded by the asking time');
    held.child.kill('SIGKILL');
    await held.closed;
  } finally {
    if (grandchild !== undefined) process.kill(grandchild, 'SIGKILL');
    await tmp.remove();
  }
});

test.run();
