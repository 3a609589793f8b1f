import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashPath } from '../../../common/hash-path.ts';
import { runRingCommand } from '../../../ring/cli.ts';
import { readRingFile } from '../../../ring/io.ts';
import { Ring } from '../../../ring/ring.ts';
import { captureIo } from '../../helpers/capture-io.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const run = promisify(execFile);
const swiftlet = join(import.meta.dirname, '../../../cli/swiftlet.ts');

test('create, add, rebalance, write_ring, show --json, get-nodes round-trip', async () => {
  const dir = await makeTempDir();
  try {
    const builder = join(dir.path, 'object.builder');
    const io = captureIo();
    assert.is(await runRingCommand(['create', builder, '8', '3', '1'], io), 0);
    const devices = [1, 2, 3, 4].flatMap((n) => [`r1z${n}-127.0.0.1:62${n}0/d${n}`, '100']);
    assert.is(await runRingCommand(['add', builder, ...devices], io), 0);
    assert.is(await runRingCommand(['rebalance', builder, '--seed', '7'], io), 0);
    assert.match(io.text(), /Reassigned 768 \(100\.00%\) replica assignments\. Balance is now 0\.00\. Dispersion is now 0\.00\./);
    const ringPath = join(dir.path, 'object.ring.gz');
    assert.ok(existsSync(ringPath), 'rebalance writes the ring file');
    assert.is(await runRingCommand(['write_ring', builder], io), 0);

    const show = captureIo();
    assert.is(await runRingCommand(['show', builder, '--json'], show), 0);
    const shown = JSON.parse(show.text()) as { partitions: number; replicas: number; devices: { device: string; partitions: number; port: number }[] };
    assert.is(shown.partitions, 256);
    assert.is(shown.replicas, 3);
    assert.equal(shown.devices.map((d) => [d.device, d.port, d.partitions]), [['d1', 6210, 192], ['d2', 6220, 192], ['d3', 6230, 192], ['d4', 6240, 192]]);

    await writeFile(join(dir.path, 'swiftlet.conf'), '[swift-hash]\nswift_hash_path_suffix = changeme\n');
    const nodes = captureIo();
    assert.is(await runRingCommand(['get-nodes', ringPath, 'AUTH_test', 'cont', 'obj/with space'], nodes), 0);
    const ring = Ring.fromData(readRingFile(ringPath), new HashPath('', 'changeme'));
    const expected = ring.getNodes('AUTH_test', 'cont', 'obj/with space');
    assert.match(nodes.text(), new RegExp(`Partition\\t${expected.partition}\\n`));
    for (const node of expected.nodes) {
      assert.ok(nodes.stdout.includes(`curl -I -X HEAD "http://127.0.0.1:${node.port}/${node.device}/${expected.partition}/AUTH_test/cont/obj/with%20space"`), `no curl line for ${node.device}`);
    }
    const handoff = [...ring.moreNodes(expected.partition)][0];
    assert.ok(nodes.stdout.includes(`curl -I -X HEAD "http://127.0.0.1:${handoff?.port}/${handoff?.device}/${expected.partition}/AUTH_test/cont/obj/with%20space" # [Handoff]`));
  } finally {
    await dir.remove();
  }
});

test("swift-ring-builder's argument order works too, and show prints the device table", async () => {
  const dir = await makeTempDir();
  try {
    const builder = join(dir.path, 'account.builder');
    const io = captureIo();
    assert.is(await runRingCommand([builder, 'create', '6', '3', '0'], io), 0);
    assert.is(await runRingCommand([builder, 'add', 'r1z1-10.0.0.1:6212/sdb', '1', 'r1z2-10.0.0.2:6212/sdb', '1', 'r1z3-10.0.0.3:6212/sdb', '1'], io), 0);
    assert.is(await runRingCommand([builder, 'rebalance'], io), 0);
    assert.is(await runRingCommand([builder, 'set_weight', 'd1', '2'], io), 0);
    assert.is(await runRingCommand([builder, 'remove', 'r1z3'], io), 0);
    const show = captureIo();
    assert.is(await runRingCommand([builder, 'show'], show), 0);
    assert.match(show.text(), /64 partitions, 3 replicas, 1 regions, 3 zones, 3 devices/);
    assert.match(show.text(), /Ring file .*account\.ring\.gz is up-to-date/);
    assert.match(show.text(), /2\s+1\s+3\s+10\.0\.0\.3:6212\s+10\.0\.0\.3:6212\s+sdb\s+1\.00\s+64\s+[-\d.]+\s+DEL/);
    const validate = captureIo();
    assert.is(await runRingCommand(['validate', join(dir.path, 'account.ring.gz')], validate), 0);
    assert.match(validate.text(), /is valid/);
  } finally {
    await dir.remove();
  }
});

test('mistakes get a clear message and a non-zero exit', async () => {
  const dir = await makeTempDir();
  try {
    const builder = join(dir.path, 'x.builder');
    const io = captureIo();
    assert.is(await runRingCommand(['frobnicate', builder], io), 2);
    assert.is(await runRingCommand(['show', builder], io), 1);
    assert.match(io.stderr.join('\n'), /cannot read \(ENOENT\)/);
    assert.is(await runRingCommand(['create', builder, '8', '3', '1'], io), 0);
    assert.is(await runRingCommand(['create', builder, '8', '3', '1'], io), 1);
    assert.match(io.stderr.at(-1) ?? '', /already exists/);
    assert.is(await runRingCommand(['add', builder, '127.0.0.1:6210/d1', '100'], io), 1);
    assert.match(io.stderr.at(-1) ?? '', /expected r<region>z<zone>/);
    assert.is(await runRingCommand(['write_ring', builder], io), 1);
    assert.match(io.stderr.at(-1) ?? '', /never been rebalanced/);
    assert.is(await runRingCommand(['get-nodes', join(dir.path, 'nope.ring.gz'), 'a'], io), 1);
  } finally {
    await dir.remove();
  }
});

test('the swiftlet command runs the ring tool', async () => {
  const dir = await makeTempDir();
  try {
    const builder = join(dir.path, 'object.builder');
    await run(process.execPath, [swiftlet, 'ring', 'create', builder, '4', '1', '0']);
    await run(process.execPath, [swiftlet, 'ring', 'add', builder, 'r1z1-127.0.0.1:6210/d1', '1']);
    const { stdout } = await run(process.execPath, [swiftlet, 'ring', 'rebalance', builder]);
    assert.match(stdout, /Reassigned 16 \(100\.00%\)/);
    const bad = await run(process.execPath, [swiftlet, 'nonsense']).catch((err: { code: number; stderr: string }) => err);
    assert.is((bad as { code: number }).code, 2);
  } finally {
    await dir.remove();
  }
});

test.run();
