import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../common/clock.ts';
import { domainXml } from '../../compute/agent/hypervisor/domain-xml.ts';
import { LibvirtHypervisor } from '../../compute/agent/hypervisor/libvirt.ts';
import { execRunner } from '../../compute/network/driver/linux.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

/**
 * A server on real QEMU (TCG, no KVM needed): libvirtd and virtlogd started here by hand, the
 * libvirt driver on `qemu:///system` through a socket of the test's own. Runs where the machine
 * has Debian's libvirt-daemon, libvirt-daemon-driver-qemu and qemu-system-x86, a libvirt-qemu
 * user, root, and no libvirtd of its own running; elsewhere it says why and runs nothing.
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
  test('a server boots under QEMU on qemu:///system, pauses, suspends to disk and back, is snapshotted and stopped', async () => {
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
    try {
      await appears('/run/libvirt/virtlogd-sock', 60_000);
      await appears(join(sockets, 'libvirt-sock'), 60_000);
      hv = await LibvirtHypervisor.open({ uri: `qemu:///system?socket=${join(sockets, 'libvirt-sock')}`, stateDir: dir.path, clock: systemClock, shutdownPollMs: 100 });
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

      const image = await hv.snapshot(name, { path: join(dir.path, 'snapshot.qcow2') });
      assert.is(image.diskFormat, 'qcow2');
      assert.is((await hv.info(name)).powerState, 'running');

      // No OS to answer ACPI: the clean shutdown times out and the guest is powered off.
      assert.is(await hv.stop(name, { timeoutMs: 1000 }), 'forced');
      assert.is(await qemuOf(name), undefined);
      await hv.undefine(name);
    } finally {
      if (hv !== undefined) {
        try {
          await hv.destroy(name);
          await hv.undefine(name);
        } catch {
          // already gone
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
