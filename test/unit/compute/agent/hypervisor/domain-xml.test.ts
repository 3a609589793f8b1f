import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeDomain } from '../../../../../compute/agent/hypervisor/domain-description.ts';
import { type DomainSpec, domainXml } from '../../../../../compute/agent/hypervisor/domain-xml.ts';
import { InvalidDomainXml } from '../../../../../compute/agent/hypervisor/errors.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';

const run = promisify(execFile);

const server: DomainSpec = {
  name: 'instance-0000002a',
  uuid: '6e2b5a52-7d47-4d4d-8d62-3a3e0a6d1c11',
  virtType: 'kvm',
  memoryMiB: 512,
  vcpus: 2,
  disks: [
    { path: '/var/lib/swiftlet/instances/6e2b5a52/disk', format: 'qcow2', targetDev: 'vda' },
    { path: '/var/lib/swiftlet/instances/6e2b5a52/disk.config', format: 'raw', targetDev: 'sda', device: 'cdrom' },
  ],
  nics: [
    { mac: 'fa:16:3e:aa:bb:cc', bridge: 'brq1234567890a', targetDev: 'tap1234567890a', mtu: 1450 },
    { mac: 'fa:16:3e:00:00:01', bridge: 'brq2234567890a', targetDev: 'tap2234567890a' },
  ],
  consoleLogPath: '/var/lib/swiftlet/instances/6e2b5a52/console.log',
};

/** libvirt's own schema check (Debian libvirt-clients and libxml2-utils; .ci/run installs them). */
async function validate(xml: string): Promise<void> {
  const dir = await makeTempDir('swiftlet-xml-');
  try {
    const file = join(dir.path, 'domain.xml');
    await writeFile(file, xml);
    await run('virt-xml-validate', [file, 'domain']);
  } finally {
    await dir.remove();
  }
}

test('the XML for a KVM server passes libvirt\'s domain schema', async () => {
  await validate(domainXml(server));
});

test('the XML for a QEMU (TCG) server passes too, without host-model CPU or KVM timers', async () => {
  const xml = domainXml({ ...server, virtType: 'qemu' });
  await validate(xml);
  assert.not.ok(xml.includes('host-model'));
  assert.not.ok(xml.includes("name='pit'"));
});

test('the schema check does fail on a domain libvirt would refuse (so the checks above mean something)', async () => {
  let failed = false;
  try {
    await validate("<domain type='nonsense'><name>x</name></domain>");
  } catch {
    failed = true;
  }
  assert.ok(failed);
});

test('the XML says what the spec says: size, disks, NICs, console', () => {
  const xml = domainXml(server);
  const d = describeDomain(xml);
  assert.equal(d, {
    type: 'kvm',
    name: 'instance-0000002a',
    uuid: '6e2b5a52-7d47-4d4d-8d62-3a3e0a6d1c11',
    memoryKiB: 512 * 1024,
    vcpus: 2,
    disks: [
      { path: '/var/lib/swiftlet/instances/6e2b5a52/disk', format: 'qcow2', device: 'disk' },
      { path: '/var/lib/swiftlet/instances/6e2b5a52/disk.config', format: 'raw', device: 'cdrom' },
    ],
    consoleLogPath: '/var/lib/swiftlet/instances/6e2b5a52/console.log',
  });
  assert.ok(xml.includes("<mac address='fa:16:3e:aa:bb:cc'/>\n      <source bridge='brq1234567890a'/>\n      <target dev='tap1234567890a'/>"));
  assert.ok(xml.includes("<mtu size='1450'/>"));
});

test('paths with XML\'s special characters are escaped and read back whole', async () => {
  const path = "/srv/a&b/<it's>/disk";
  const xml = domainXml({ ...server, disks: [{ path, format: 'raw', targetDev: 'vda' }] });
  await validate(xml);
  assert.is(describeDomain(xml).disks[0]?.path, path);
});

test('a spec libvirt would refuse is refused here, naming the field', () => {
  const cases: [Partial<DomainSpec>, RegExp][] = [
    [{ name: 'has space' }, /name/],
    [{ uuid: 'not-a-uuid' }, /uuid/],
    [{ memoryMiB: 0 }, /memoryMiB/],
    [{ vcpus: 1.5 }, /vcpus/],
    [{ consoleLogPath: 'relative.log' }, /console log path/],
    [{ disks: [{ path: '/d', format: 'raw', targetDev: 'vda' }, { path: '/e', format: 'raw', targetDev: 'vda' }] }, /disk target/],
    [{ nics: [{ mac: 'FA:16:3E:00:00:01', bridge: 'br0', targetDev: 'tap0' }] }, /MAC/],
    [{ nics: [{ mac: 'fa:16:3e:00:00:01', bridge: 'br0', targetDev: 'tap0123456789abcdef' }] }, /tap/],
    [{ nics: [{ mac: 'fa:16:3e:00:00:01', bridge: 'br0', targetDev: 'tap0', mtu: 10 }] }, /MTU/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => domainXml({ ...server, ...change }), (err: unknown) => err instanceof InvalidDomainXml && message.test(err.message), JSON.stringify(change));
  }
});

test('memory in any of libvirt\'s units is read as KiB', () => {
  const xml = (memory: string) => `<domain type='qemu'><name>m</name>${memory}<vcpu>1</vcpu></domain>`;
  assert.is(describeDomain(xml("<memory unit='MiB'>64</memory>")).memoryKiB, 65_536);
  assert.is(describeDomain(xml("<memory unit='G'>1</memory>")).memoryKiB, 1_048_576);
  assert.is(describeDomain(xml('<memory>2048</memory>')).memoryKiB, 2048);
  assert.is(describeDomain(xml("<memory unit='MB'>1</memory>")).memoryKiB, 977);
  assert.throws(() => describeDomain(xml("<memory unit='parsecs'>1</memory>")), (err: unknown) => err instanceof InvalidDomainXml);
});


test('a volume\'s front-end QoS is the disk\'s <iotune>, in Nova\'s order, and passes the schema; a disk without any has none', async () => {
  const disk = { path: '/var/lib/swiftlet/volumes/volume-1', format: 'raw' as const, targetDev: 'vdb', serial: 'v1', iotune: { total_iops_sec: 500, read_bytes_sec: 1048576, size_iops_sec: 4096 } };
  const xml = domainXml({ ...server, disks: [...server.disks, disk] });
  await validate(xml);
  assert.ok(xml.includes("<serial>v1</serial>\n      <iotune>\n        <read_bytes_sec>1048576</read_bytes_sec>\n        <total_iops_sec>500</total_iops_sec>\n        <size_iops_sec>4096</size_iops_sec>\n      </iotune>\n    </disk>"), xml);
  assert.is(xml.match(/<iotune>/g)?.length, 1, 'only the volume has limits');
  for (const iotune of [{ bogus_sec: 1 }, { total_iops_sec: -1 }, { total_iops_sec: 1.5 }] as Record<string, number>[]) {
    assert.throws(() => domainXml({ ...server, disks: [{ ...disk, iotune }] }), (err: unknown) => err instanceof InvalidDomainXml && /iotune/.test(err.message), JSON.stringify(iotune));
  }
});

test.run();
