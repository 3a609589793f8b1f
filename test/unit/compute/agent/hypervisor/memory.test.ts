import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { domainXml } from '../../../../../compute/agent/hypervisor/domain-xml.ts';
import { DeviceDetachFailed } from '../../../../../compute/agent/hypervisor/errors.ts';
import { MemoryHypervisor } from '../../../../../compute/agent/hypervisor/memory.ts';
import { hypervisorSuite } from '../../../../conformance/hypervisor.ts';
import { ManualClock } from '../../../../helpers/manual-clock.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';

hypervisorSuite('memory', async () => {
  const dir = await makeTempDir('swiftlet-hv-');
  return { hypervisor: new MemoryHypervisor({ clock: new ManualClock() }), dir: dir.path, cleanup: dir.remove };
});

/** Runs `work` while moving the clock a second at a time, until it settles. */
async function withTimePassing<T>(clock: ManualClock, work: Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  let settled = false;
  const start = clock.monotonic();
  work.then(() => (settled = true), () => (settled = true));
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled) clock.advance(1000);
  }
  return { value: await work, elapsedMs: clock.monotonic() - start };
}

const spec = (name: string) => ({
  name,
  uuid: '6e2b5a52-7d47-4d4d-8d62-3a3e0a6d1c11',
  virtType: 'qemu' as const,
  memoryMiB: 64,
  vcpus: 1,
  disks: [],
  nics: [],
  consoleLogPath: '/nonexistent/console.log',
});

test('a guest that ignores ACPI is powered off when its stop timeout runs out', async () => {
  const clock = new ManualClock();
  const hv = new MemoryHypervisor({ clock });
  await hv.define(domainXml(spec('deaf')));
  await hv.start('deaf');
  hv.ignoreShutdown('deaf');
  const { value, elapsedMs } = await withTimePassing(clock, hv.stop('deaf', { timeoutMs: 30_000 }));
  assert.is(value, 'forced');
  assert.is(elapsedMs, 30_000);
  assert.is((await hv.info('deaf')).powerState, 'shutdown');
});

test('a soft reboot of a guest that ignores ACPI becomes a hard one after the wait', async () => {
  const clock = new ManualClock();
  const hv = new MemoryHypervisor({ clock });
  await hv.define(domainXml(spec('deaf')));
  await hv.start('deaf');
  hv.ignoreShutdown('deaf');
  const { elapsedMs } = await withTimePassing(clock, hv.reboot('deaf', 'soft', 5_000));
  assert.is(elapsedMs, 5_000);
  assert.is((await hv.info('deaf')).powerState, 'running');
});

test('a disk the running guest will not let go: asked device_detach_attempts times, each given its timeout, then DeviceDetachFailed; the definition is without it', async () => {
  const clock = new ManualClock();
  const hv = new MemoryHypervisor({ clock, shutdownPollMs: 1000, detachAttempts: 3, detachTimeoutMs: 5_000 });
  await hv.define(domainXml(spec('holder')));
  await hv.start('holder');
  await hv.attachDisk('holder', { path: '/volumes/volume-1', format: 'raw', targetDev: 'vdb' });
  assert.ok((await hv.domainXml('holder')).includes('/volumes/volume-1'), 'plugged into the running guest');
  hv.ignoreUnplug('holder');
  const detach = hv.detachDisk('holder', 'vdb').then(() => undefined, (err: unknown) => err);
  const { value, elapsedMs } = await withTimePassing(clock, detach);
  assert.ok(value instanceof DeviceDetachFailed, String(value));
  assert.is(elapsedMs, 15_000, 'three attempts of 5 s');
  assert.ok((await hv.domainXml('holder')).includes('/volumes/volume-1'), 'the guest still has it');
  assert.not.ok((await hv.domainXml('holder', { inactive: true })).includes('/volumes/volume-1'), 'the next start boots without it');
});

test.run();
