import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeDomain } from '../../compute/agent/hypervisor/domain-description.ts';
import { diskAt } from '../../compute/agent/hypervisor/domain-disks.ts';
import { type DomainSpec, domainXml } from '../../compute/agent/hypervisor/domain-xml.ts';
import {
  ConsoleNotAvailable,
  DiskTargetInUse,
  DomainExists,
  DomainNotFound,
  DomainStateError,
  InvalidDomainXml,
  SnapshotFailed,
} from '../../compute/agent/hypervisor/errors.ts';
import { CONSOLE_MAX_BYTES, type Hypervisor, type PowerState } from '../../compute/agent/hypervisor/types.ts';
import { rejects } from '../helpers/rejects.ts';

/**
 * The contract of `Hypervisor` (compute/agent/hypervisor/types.ts): what the compute agent
 * relies on from libvirt and from the memory twin. Each implementation's test file runs it
 * with its own factory; `dir` is a fresh directory for the domains' disks and console logs.
 */
export interface HypervisorHarness {
  readonly hypervisor: Hypervisor;
  readonly dir: string;
  cleanup(): Promise<void>;
}

export function hypervisorSuite(name: string, factory: () => Promise<HypervisorHarness>): void {
  const test = suite(`Hypervisor conformance: ${name}`);
  let h: HypervisorHarness;
  let hv: Hypervisor;
  let n = 0;

  test.before.each(async () => {
    h = await factory();
    hv = h.hypervisor;
  });
  test.after.each(async () => {
    await hv.close();
    await h.cleanup();
  });

  /** A server's domain with a raw root disk of `diskBytes` and a console log, both in `dir`. */
  const spec = async (overrides: Partial<DomainSpec> = {}, diskBytes = randomBytes(64 * 1024)): Promise<DomainSpec> => {
    const name = `instance-${(++n).toString(16).padStart(8, '0')}`;
    const disk = join(h.dir, `${name}.disk`);
    await writeFile(disk, diskBytes);
    return {
      name,
      uuid: randomUUID(),
      virtType: 'qemu',
      memoryMiB: 64,
      vcpus: 1,
      disks: [{ path: disk, format: 'raw', targetDev: 'vda' }],
      nics: [{ mac: 'fa:16:3e:12:34:56', bridge: 'brq0123456789a', targetDev: 'tap0123456789a' }],
      consoleLogPath: join(h.dir, `${name}.console.log`),
      ...overrides,
    };
  };
  const defined = async (overrides: Partial<DomainSpec> = {}): Promise<DomainSpec> => {
    const s = await spec(overrides);
    await hv.define(domainXml(s));
    return s;
  };
  const running = async (overrides: Partial<DomainSpec> = {}): Promise<DomainSpec> => {
    const s = await defined(overrides);
    await hv.start(s.name);
    return s;
  };
  const state = async (name: string): Promise<PowerState> => (await hv.info(name)).powerState;
  const stateError = (operation: string, from: PowerState) => (err: unknown) =>
    err instanceof DomainStateError && err.operation === operation && err.powerState === from;

  test('a defined domain is shut off, with its UUID, memory and vCPUs, and is listed', async () => {
    const s = await spec({ memoryMiB: 128, vcpus: 2 });
    const info = await hv.define(domainXml(s));
    assert.equal(info, { name: s.name, uuid: s.uuid, powerState: 'shutdown', memoryKiB: 128 * 1024, vcpus: 2 });
    assert.ok((await hv.list()).some((d) => d.name === s.name && d.uuid === s.uuid));
  });

  test('the domain XML comes back with the disk, the NIC and the console it was given', async () => {
    const s = await defined();
    const xml = await hv.domainXml(s.name);
    assert.ok(xml.includes(`<uuid>${s.uuid}</uuid>`), xml);
    assert.ok(xml.includes(s.disks[0]?.path ?? '?'), xml);
    assert.ok(xml.includes("address='fa:16:3e:12:34:56'"), xml);
    assert.ok(xml.includes(s.consoleLogPath), xml);
  });

  test('XML that is not a domain is refused and defines nothing', async () => {
    const before = (await hv.list()).length;
    await rejects(hv.define('<domain'), InvalidDomainXml);
    await rejects(hv.define("<domain type='qemu'><memory>65536</memory></domain>"), InvalidDomainXml);
    assert.is((await hv.list()).length, before);
  });

  test('a second domain with the name of another UUID is refused; the first stays as it was', async () => {
    const s = await defined({ vcpus: 1 });
    await rejects(hv.define(domainXml({ ...s, uuid: randomUUID(), vcpus: 3 })), DomainExists);
    const info = await hv.info(s.name);
    assert.is(info.uuid, s.uuid);
    assert.is(info.vcpus, 1);
  });

  test('defining the same domain again changes what the next start boots, not the running guest', async () => {
    const s = await running({ vcpus: 1 });
    await hv.define(domainXml({ ...s, vcpus: 2 }));
    assert.is((await hv.info(s.name)).vcpus, 1);
    await hv.stop(s.name, { timeoutMs: 0 });
    await hv.start(s.name);
    assert.is((await hv.info(s.name)).vcpus, 2);
  });

  test('start boots a shut-off domain; starting it again is refused while it runs', async () => {
    const s = await defined();
    await hv.start(s.name);
    assert.is(await state(s.name), 'running');
    await rejects(hv.start(s.name), stateError('start', 'running'));
    assert.is(await state(s.name), 'running');
  });

  test('stop shuts a running guest down cleanly within its time; a shut-off one stays off', async () => {
    const s = await running();
    assert.is(await hv.stop(s.name, { timeoutMs: 60_000 }), 'clean');
    assert.is(await state(s.name), 'shutdown');
    assert.is(await hv.stop(s.name, { timeoutMs: 60_000 }), 'clean');
    assert.is(await state(s.name), 'shutdown');
  });

  test('stop without time, or of a paused guest, powers it off', async () => {
    const a = await running();
    assert.is(await hv.stop(a.name, { timeoutMs: 0 }), 'forced');
    assert.is(await state(a.name), 'shutdown');
    const b = await running();
    await hv.pause(b.name);
    assert.is(await hv.stop(b.name, { timeoutMs: 60_000 }), 'forced');
    assert.is(await state(b.name), 'shutdown');
  });

  test('destroy powers a running or paused domain off and leaves a shut-off one alone', async () => {
    const s = await running();
    await hv.destroy(s.name);
    assert.is(await state(s.name), 'shutdown');
    await hv.destroy(s.name);
    assert.is(await state(s.name), 'shutdown');
    await hv.start(s.name);
    await hv.pause(s.name);
    await hv.destroy(s.name);
    assert.is(await state(s.name), 'shutdown');
  });

  test('pause and unpause, each only from its state', async () => {
    const s = await defined();
    await rejects(hv.pause(s.name), stateError('pause', 'shutdown'));
    await hv.start(s.name);
    await rejects(hv.unpause(s.name), stateError('unpause', 'running'));
    await hv.pause(s.name);
    assert.is(await state(s.name), 'paused');
    await rejects(hv.pause(s.name), stateError('pause', 'paused'));
    await hv.unpause(s.name);
    assert.is(await state(s.name), 'running');
  });

  test('suspend saves a running guest, which then neither starts nor stops, and resume brings it back', async () => {
    const s = await running();
    await hv.suspend(s.name);
    assert.is(await state(s.name), 'suspended');
    await rejects(hv.start(s.name), stateError('start', 'suspended'));
    await rejects(hv.stop(s.name, { timeoutMs: 0 }), stateError('stop', 'suspended'));
    await rejects(hv.reboot(s.name, 'hard'), stateError('reboot', 'suspended'));
    await rejects(hv.suspend(s.name), stateError('suspend', 'suspended'));
    await hv.resume(s.name);
    assert.is(await state(s.name), 'running');
    await rejects(hv.resume(s.name), stateError('resume', 'running'));
  });

  test('a paused guest can be suspended too', async () => {
    const s = await running();
    await hv.pause(s.name);
    await hv.suspend(s.name);
    assert.is(await state(s.name), 'suspended');
    await hv.resume(s.name);
    assert.ok(['running', 'paused'].includes(await state(s.name)));
  });

  test('reboot, soft or hard, from running, paused or shut off, ends running', async () => {
    const s = await running();
    await hv.reboot(s.name, 'soft');
    assert.is(await state(s.name), 'running');
    await hv.reboot(s.name, 'hard');
    assert.is(await state(s.name), 'running');
    await hv.pause(s.name);
    await hv.reboot(s.name, 'soft');
    assert.is(await state(s.name), 'running');
    await hv.stop(s.name, { timeoutMs: 0 });
    await hv.reboot(s.name, 'soft');
    assert.is(await state(s.name), 'running');
  });

  test('undefine forgets a shut-off or suspended domain, and refuses a running or paused one', async () => {
    const s = await running();
    await rejects(hv.undefine(s.name), stateError('undefine', 'running'));
    await hv.pause(s.name);
    await rejects(hv.undefine(s.name), stateError('undefine', 'paused'));
    await hv.destroy(s.name);
    await hv.undefine(s.name);
    await rejects(hv.info(s.name), DomainNotFound);
    assert.not.ok((await hv.list()).some((d) => d.name === s.name));
    const t = await running();
    await hv.suspend(t.name);
    await hv.undefine(t.name);
    await rejects(hv.info(t.name), DomainNotFound);
    // The disks stay: they are the agent's to remove.
    assert.ok((await stat(t.disks[0]?.path ?? '?')).isFile());
  });

  test('an attached disk is in the definition as a virtio disk with its file, format and serial; a running guest has it at once where the driver hot-plugs, else from its next start', async () => {
    const s = await running();
    const volume = join(h.dir, `${s.name}.volume`);
    await writeFile(volume, Buffer.alloc(64 * 1024));
    const id = randomUUID();
    await hv.attachDisk(s.name, { path: volume, format: 'raw', targetDev: 'vdb', serial: id });
    const definition = await hv.domainXml(s.name, { inactive: true });
    assert.equal(describeDomain(definition).disks.map((d) => [d.path, d.format, d.device]), [[s.disks[0]?.path, 'raw', 'disk'], [volume, 'raw', 'disk']]);
    assert.match(definition, /<target dev=["']vdb["'] bus=["']virtio["']\/>/);
    assert.ok(definition.includes(`<serial>${id}</serial>`), definition);
    assert.is(await state(s.name), 'running', 'the guest runs on');
    assert.is((await hv.domainXml(s.name)).includes(volume), hv.supports.hotplug, 'the running guest has the disk at once only where the driver hot-plugs');
    await hv.stop(s.name, { timeoutMs: 0 });
    await hv.start(s.name);
    assert.ok((await hv.domainXml(s.name)).includes(volume), 'the guest booted with it');
  });

  test('a detach from a running guest takes the disk out of the definition, and out of the guest at once where the driver hot-plugs', async () => {
    const s = await running();
    const volume = join(h.dir, `${s.name}.volume`);
    await writeFile(volume, Buffer.alloc(64 * 1024));
    await hv.attachDisk(s.name, { path: volume, format: 'raw', targetDev: 'vdb' });
    await hv.stop(s.name, { timeoutMs: 0 });
    await hv.start(s.name);
    await hv.detachDisk(s.name, 'vdb');
    assert.not.ok((await hv.domainXml(s.name, { inactive: true })).includes(volume));
    assert.is((await hv.domainXml(s.name)).includes(volume), !hv.supports.hotplug, 'the guest keeps it until its next start only where the driver cannot unplug');
    assert.is(await state(s.name), 'running');
    await hv.stop(s.name, { timeoutMs: 0 });
    await hv.start(s.name);
    assert.not.ok((await hv.domainXml(s.name)).includes(volume), 'the guest booted without it');
  });

  test('a read-only volume is a <readonly/> disk in the definition and, once started, in the guest; a writable one has none', async () => {
    const s = await defined();
    const [ro, rw] = [join(h.dir, `${s.name}.ro`), join(h.dir, `${s.name}.rw`)];
    await hv.attachDisk(s.name, { path: ro, format: 'raw', targetDev: 'vdb', readOnly: true });
    await hv.attachDisk(s.name, { path: rw, format: 'raw', targetDev: 'vdc', readOnly: false });
    await hv.start(s.name);
    for (const xml of [await hv.domainXml(s.name, { inactive: true }), await hv.domainXml(s.name)]) {
      assert.match(diskAt(xml, 'vdb') ?? '', /<readonly\/>/, xml);
      assert.not.match(diskAt(xml, 'vdc') ?? '', /<readonly/, xml);
    }
  });

  test('attaching the same disk again changes nothing; another file at a taken target is refused', async () => {
    const s = await defined();
    const volume = join(h.dir, `${s.name}.volume`);
    await hv.attachDisk(s.name, { path: volume, format: 'qcow2', targetDev: 'vdb' });
    await hv.attachDisk(s.name, { path: volume, format: 'qcow2', targetDev: 'vdb' });
    assert.is(describeDomain(await hv.domainXml(s.name, { inactive: true })).disks.length, 2);
    await rejects(hv.attachDisk(s.name, { path: `${volume}.other`, format: 'raw', targetDev: 'vdb' }), DiskTargetInUse);
    await rejects(hv.attachDisk(s.name, { path: `${volume}.other`, format: 'raw', targetDev: 'vda' }), DiskTargetInUse);
    assert.equal(describeDomain(await hv.domainXml(s.name, { inactive: true })).disks.map((d) => d.path), [s.disks[0]?.path, volume]);
  });

  test('detach takes the disk out of the definition and keeps the others; a disk not there is nothing to do', async () => {
    const s = await defined();
    const [b, c] = [join(h.dir, `${s.name}.b`), join(h.dir, `${s.name}.c`)];
    await hv.attachDisk(s.name, { path: b, format: 'raw', targetDev: 'vdb' });
    await hv.attachDisk(s.name, { path: c, format: 'raw', targetDev: 'vdc' });
    await hv.detachDisk(s.name, 'vdb');
    await hv.detachDisk(s.name, 'vdb');
    const after = describeDomain(await hv.domainXml(s.name, { inactive: true }));
    assert.equal(after.disks.map((d) => d.path), [s.disks[0]?.path, c]);
    assert.is(after.consoleLogPath, s.consoleLogPath, 'the rest of the domain is as it was');
    await hv.start(s.name);
    assert.is(await state(s.name), 'running');
  });

  test('every operation on a domain that does not exist says so', async () => {
    const missing = 'instance-ffffffff';
    for (const op of [
      () => hv.start(missing),
      () => hv.stop(missing, { timeoutMs: 0 }),
      () => hv.destroy(missing),
      () => hv.reboot(missing, 'hard'),
      () => hv.pause(missing),
      () => hv.unpause(missing),
      () => hv.suspend(missing),
      () => hv.resume(missing),
      () => hv.undefine(missing),
      () => hv.info(missing),
      () => hv.domainXml(missing),
      () => hv.domainXml(missing, { inactive: true }),
      () => hv.attachDisk(missing, { path: join(h.dir, 'v'), format: 'raw', targetDev: 'vdb' }),
      () => hv.detachDisk(missing, 'vdb'),
      () => hv.consoleOutput(missing),
      () => hv.snapshot(missing, { path: join(h.dir, 'missing.img') }),
    ]) {
      await rejects(op(), (err: unknown) => err instanceof DomainNotFound && err.domain === missing);
    }
  });

  test('console output is empty before the guest writes, then the end of its log', async () => {
    const s = await running();
    assert.is((await hv.consoleOutput(s.name)).length, 0);
    await appendFile(s.consoleLogPath, 'SeaBIOS (version 1.16.2)\nlogin: ');
    assert.is((await hv.consoleOutput(s.name)).toString(), 'SeaBIOS (version 1.16.2)\nlogin: ');
  });

  test('console output is at most 100 KiB: the newest bytes, the rotated log before them', async () => {
    const s = await running();
    const older = 'old '.repeat(10_000);
    const newest = `${'x'.repeat(CONSOLE_MAX_BYTES - 1000)}last line\n`;
    await writeFile(`${s.consoleLogPath}.0`, older);
    await writeFile(s.consoleLogPath, newest);
    const out = (await hv.consoleOutput(s.name)).toString();
    assert.is(out.length, CONSOLE_MAX_BYTES);
    assert.is(out, (older + newest).slice(-CONSOLE_MAX_BYTES));
  });

  test('a domain without a file console has no console output', async () => {
    const uuid = randomUUID();
    const xml = `<domain type='qemu'><name>no-console</name><uuid>${uuid}</uuid><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`;
    await hv.define(xml);
    await rejects(hv.consoleOutput('no-console'), ConsoleNotAvailable);
  });

  test('a snapshot is the root disk as an image, and the guest runs on as before', async () => {
    const bytes = randomBytes(256 * 1024);
    const s = await spec({}, bytes);
    await hv.define(domainXml(s));
    await hv.start(s.name);
    const out = join(h.dir, 'snap.img');
    const image = await hv.snapshot(s.name, { path: out });
    assert.equal(image, { path: out, diskFormat: 'raw', size: bytes.length });
    assert.ok((await readFile(out)).equals(bytes));
    assert.is(await state(s.name), 'running');
  });

  test('a snapshot of a paused or shut-off guest leaves it so', async () => {
    const s = await running();
    await hv.pause(s.name);
    await hv.snapshot(s.name, { path: join(h.dir, 'paused.img') });
    assert.is(await state(s.name), 'paused');
    await hv.destroy(s.name);
    await hv.snapshot(s.name, { path: join(h.dir, 'off.img') });
    assert.is(await state(s.name), 'shutdown');
  });

  test('a snapshot never overwrites a file, and a domain without a disk has none', async () => {
    const s = await running();
    const out = join(h.dir, 'taken.img');
    await writeFile(out, 'mine');
    await rejects(hv.snapshot(s.name, { path: out }), SnapshotFailed);
    assert.is(await readFile(out, 'utf8'), 'mine');
    assert.is(await state(s.name), 'running');
    const bare = await spec({ disks: [] });
    await hv.define(domainXml(bare));
    await rejects(hv.snapshot(bare.name, { path: join(h.dir, 'bare.img') }), SnapshotFailed);
  });

  test('the host reports its vCPUs, memory and disk', async () => {
    const r = await hv.hostResources();
    assert.ok(r.vcpus > 0 && r.memoryMiB > 0 && r.diskGiB >= 0, JSON.stringify(r));
    assert.ok(r.hostname.length > 0 && r.hypervisorType.length > 0);
  });

  test('operations on one domain wait for each other: pause during a stop sees it stopped', async () => {
    const s = await running();
    const stopping = hv.stop(s.name, { timeoutMs: 60_000 });
    const pausing = hv.pause(s.name);
    assert.is(await stopping, 'clean');
    await rejects(pausing, stateError('pause', 'shutdown'));
  });

  test.run();
}
