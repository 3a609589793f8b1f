import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../common/clock.ts';
import { describeDomain } from '../../compute/agent/hypervisor/domain-description.ts';
import { domainXml } from '../../compute/agent/hypervisor/domain-xml.ts';
import { DeviceDetachFailed } from '../../compute/agent/hypervisor/errors.ts';
import { LibvirtHypervisor } from '../../compute/agent/hypervisor/libvirt.ts';
import { execRunner } from '../../compute/network/driver/linux.ts';
import { rejects } from '../helpers/rejects.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

/**
 * A server on real QEMU (TCG, no KVM needed): libvirtd and virtlogd started here by hand, the
 * libvirt driver on `qemu:///system` through a socket of the test's own. Runs where the machine
 * has Debian's libvirt-daemon, libvirt-daemon-driver-qemu and qemu-system-x86, a libvirt-qemu
 * user, root, and no libvirtd of its own running; elsewhere it says why and runs nothing. The
 * volume hot-unplug by a guest OS needs a Linux kernel in /boot (Debian's linux-image-amd64).
 */
const LIBVIRTD = '/usr/sbin/libvirtd';
const VIRTLOGD = '/usr/sbin/virtlogd';
const QEMU = '/usr/bin/qemu-system-x86_64';

async function whyNot(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root';
  for (const file of [LIBVIRTD, VIRTLOGD, QEMU]) if (!existsSync(file)) return `${file} is not installed`;
  if (!/^libvirt-qemu:/m.test(await readFile('/etc/passwd', 'utf8'))) return 'there is no libvirt-qemu user';
  if (existsSync('/run/libvirtd.pid') || existsSync('/run/libvirt/virtlogd-sock')) return 'a libvirtd or virtlogd of the machine runs';
  return undefined;
}

/** Resolves when `path` exists (a daemon's socket), or rejects after `ms`. */
function appears(path: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const dir = path.slice(0, path.lastIndexOf('/'));
    const watcher = watch(dir, () => {
      if (existsSync(path)) done();
    });
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${path} did not appear in ${ms} ms`));
    }, ms);
    const done = (): void => {
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
    if (existsSync(path)) done();
  });
}

/** Resolves when the guest's console log shows `text` (the guest got that far), or rejects after `ms`. */
function consoleShows(path: string, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const dir = path.slice(0, path.lastIndexOf('/'));
    let done = false;
    const check = (): void => {
      void readFile(path, 'latin1').then(
        (content) => content.includes(text) && finish(),
        () => undefined,
      );
    };
    const watcher = watch(dir, check);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${path} did not show ${JSON.stringify(text)} in ${ms} ms`));
    }, ms);
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
    check();
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The QEMU process running `domain`, found by its `-name guest=<domain>` argument. */
async function qemuOf(domain: string): Promise<string | undefined> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    try {
      const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      if (args[0]?.endsWith('qemu-system-x86_64') && args.some((a) => a.startsWith(`guest=${domain},`))) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

const reason = await whyNot();
if (reason !== undefined) {
  process.stdout.write(`compute-qemu probe: not run here (${reason})\n`);
} else {
  test('a server boots under QEMU on qemu:///system, pauses, suspends to disk and back, has a volume plugged in while it runs, is snapshotted and stopped; a Linux guest lets a plugged volume go', async () => {
    const dir = await makeTempDir('swiftlet-qemu-');
    await chmod(dir.path, 0o755); // QEMU runs as libvirt-qemu and must reach the disk
    await mkdir('/var/log/libvirt', { recursive: true });
    const sockets = join(dir.path, 'sock');
    await mkdir(sockets);
    await writeFile(join(dir.path, 'libvirtd.conf'), `unix_sock_dir = "${sockets}"\nunix_sock_rw_perms = "0700"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n`);
    const virtlogd = spawn(VIRTLOGD, ['-p', join(dir.path, 'virtlogd.pid')], { stdio: 'ignore' });
    const libvirtd = spawn(LIBVIRTD, ['-f', join(dir.path, 'libvirtd.conf'), '-p', join(dir.path, 'libvirtd.pid')], { stdio: 'ignore' });
    let hv: LibvirtHypervisor | undefined;
    const name = 'instance-0000beef';
    const linux = 'instance-0000cafe';
    try {
      await appears('/run/libvirt/virtlogd-sock', 60_000);
      await appears(join(sockets, 'libvirt-sock'), 60_000);
      hv = await LibvirtHypervisor.open({ uri: `qemu:///system?socket=${join(sockets, 'libvirt-sock')}`, stateDir: dir.path, clock: systemClock, shutdownPollMs: 100, detachTimeoutMs: 5_000, detachAttempts: 2 });
      const disk = join(dir.path, 'disk');
      await execRunner('qemu-img', ['create', '-f', 'qcow2', disk, '64M']);
      const spec = { name, uuid: '7f1c2e3d-4b5a-4c6d-8e9f-0a1b2c3d4e5f', virtType: 'qemu' as const, memoryMiB: 64, vcpus: 1, disks: [{ path: disk, format: 'qcow2' as const, targetDev: 'vda' }], nics: [], consoleLogPath: join(dir.path, 'console.log') };

      await hv.define(domainXml(spec));
      await hv.start(name);
      assert.is((await hv.info(name)).powerState, 'running');
      const pid = await qemuOf(name);
      assert.ok(pid !== undefined, 'a qemu-system-x86_64 process runs the guest');
      const resources = await hv.hostResources();
      assert.is(resources.hypervisorType, 'QEMU');
      assert.ok(resources.vcpus > 0 && resources.memoryMiB > 0);

      await hv.pause(name);
      assert.is((await hv.info(name)).powerState, 'paused');
      await hv.unpause(name);
      await hv.suspend(name);
      assert.is((await hv.info(name)).powerState, 'suspended');
      assert.is(await qemuOf(name), undefined, 'a suspended guest has no QEMU process');
      await hv.resume(name);
      assert.is((await hv.info(name)).powerState, 'running');

      // A volume plugged into the running guest (Nova's attach_device(live=True)): the live
      // domain, as libvirt holds it for the QEMU process, has it at once.
      const volume = join(dir.path, 'volume-1');
      await execRunner('qemu-img', ['create', '-f', 'raw', volume, '16M']);
      const qemu = await qemuOf(name); // a new process since the resume
      await hv.attachDisk(name, { path: volume, format: 'raw', targetDev: 'vdb', serial: 'b1d5c0de-0000-4000-8000-000000000001' });
      const live = async (domain: string) => describeDomain(await hv?.domainXml(domain) ?? '').disks.map((d) => d.path);
      const defined = async (domain: string) => describeDomain(await hv?.domainXml(domain, { inactive: true }) ?? '').disks.map((d) => d.path);
      assert.equal(await live(name), [disk, volume], 'the running guest has the volume');
      assert.equal(await defined(name), [disk, volume], 'and its next start will');
      assert.is(await qemuOf(name), qemu, 'the same QEMU process: plugged in, not restarted');
      // This guest runs no OS, and a PCI device leaves only when the guest ejects it: the detach
      // is asked detachAttempts times and fails as Nova's does; the next start is without it.
      await rejects(hv.detachDisk(name, 'vdb'), DeviceDetachFailed);
      assert.equal(await live(name), [disk, volume], 'a guest without an OS keeps the device');
      assert.equal(await defined(name), [disk]);

      const image = await hv.snapshot(name, { path: join(dir.path, 'snapshot.qcow2') });
      assert.is(image.diskFormat, 'qcow2');
      assert.is((await hv.info(name)).powerState, 'running');

      // No OS to answer ACPI: the clean shutdown times out and the guest is powered off.
      assert.is(await hv.stop(name, { timeoutMs: 1000 }), 'forced');
      assert.is(await qemuOf(name), undefined);
      await hv.undefine(name);

      // A guest with an OS lets the volume go: a Linux kernel booted to its wait for a root
      // device (no root file system needed; its ACPI hotplug driver answers the eject).
      const kernel = (await readdir('/boot')).filter((f) => f.startsWith('vmlinuz-')).sort().at(-1);
      if (kernel === undefined) {
        process.stdout.write('compute-qemu probe: no /boot/vmlinuz-*, so a guest OS letting a volume go is not checked\n');
      } else {
        const log = join(dir.path, 'linux-console.log');
        const xml = domainXml({ ...spec, name: linux, uuid: '7f1c2e3d-4b5a-4c6d-8e9f-0a1b2c3d4e60', memoryMiB: 256, consoleLogPath: log })
          .replace("<boot dev='hd'/>", `<kernel>/boot/${kernel}</kernel>\n    <cmdline>console=ttyS0 root=/dev/swiftlet-none rootwait loglevel=7</cmdline>`);
        await hv.define(xml);
        await hv.start(linux);
        await consoleShows(log, 'Waiting for root device', 600_000);
        await hv.attachDisk(linux, { path: volume, format: 'raw', targetDev: 'vdb', serial: 'b1d5c0de-0000-4000-8000-000000000001' });
        assert.equal(await live(linux), [disk, volume], 'the running Linux guest has the volume');
        await hv.detachDisk(linux, 'vdb');
        assert.equal(await live(linux), [disk], 'the Linux guest let it go');
        assert.equal(await defined(linux), [disk]);
        assert.is((await hv.info(linux)).powerState, 'running');
        await hv.destroy(linux);
        await hv.undefine(linux);
      }
    } finally {
      if (hv !== undefined) {
        for (const domain of [name, linux]) {
          try {
            await hv.destroy(domain);
            await hv.undefine(domain);
          } catch {
            // already gone
          }
        }
        await hv.close();
      }
      await stop(libvirtd);
      await stop(virtlogd);
      await dir.remove();
    }
  });
}

test.run();
