import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimDevices, DevicesInUseError, OLD_DEVICES_PID_FILE } from '../../../common/claim-devices.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

async function refusal(devices: string): Promise<DevicesInUseError> {
  const err = await claimDevices(devices).then(() => undefined, (e: unknown) => e);
  assert.instance(err, DevicesInUseError);
  return err as DevicesInUseError;
}

test('a second storage process on the same devices is refused with the first one\'s pid (it ran on, logging LEVEL_DATABASE_NOT_OPEN); killed, the first frees them at once', async () => {
  const dir = await makeTempDir('swiftlet-claim-');
  try {
    const module = new URL('../../../common/claim-devices.ts', import.meta.url).href;
    const script = `import { claimDevices } from ${JSON.stringify(module)}; await claimDevices(${JSON.stringify(dir.path)}); console.log('held'); setInterval(() => {}, 60_000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => (chunk.toString().includes('held') ? resolve() : undefined));
      child.once('close', () => reject(new Error('the holder exited early')));
    });
    const err = await refusal(`${dir.path}/`);
    assert.is(err.pid, child.pid);
    assert.match(err.message, new RegExp(`devices ${dir.path}/ in use by pid ${child.pid}; stop it first`));
    child.kill('SIGKILL');
    await closed;
    const claim = await claimDevices(dir.path);
    await claim.release();
  } finally {
    await dir.remove();
  }
});

test('two nodes of this process on one devices root (under two spellings) are refused as such', async () => {
  const dir = await makeTempDir('swiftlet-claim-');
  try {
    const claim = await claimDevices(dir.path);
    assert.match((await refusal(join(dir.path, '.'))).message, new RegExp(`in use by another node of this process \\(pid ${process.pid}\\)`));
    await claim.release();
  } finally {
    await dir.remove();
  }
});

test('the pid file an older version left (even naming a live process) does not block a start, and is removed; a devices root not made yet needs no claim', async () => {
  const dir = await makeTempDir('swiftlet-claim-');
  try {
    await mkdir(join(dir.path, 'd1'));
    await writeFile(join(dir.path, OLD_DEVICES_PID_FILE), `${process.pid}\n`);
    const claim = await claimDevices(dir.path);
    assert.equal(await readdir(dir.path), ['d1']);
    await claim.release();
    const none = await claimDevices(join(dir.path, 'missing'));
    await none.release();
    assert.equal(await readdir(dir.path), ['d1'], 'nothing made');
  } finally {
    await dir.remove();
  }
});

test.run();
