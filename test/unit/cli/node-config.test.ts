import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProxyConfig, loadStorageNodeConfig } from '../../../cli/node-config.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

test('the hash-path secret comes from swift_dir/swiftlet.conf (changing that file alone did nothing: the servers never read it)', async () => {
  const dir = await makeTempDir('swiftlet-node-config-');
  try {
    await writeFile(join(dir.path, 'swiftlet.conf'), '[swift-hash]\nswift_hash_path_suffix = shared-secret\n');
    const node = join(dir.path, 'storage.conf');
    await writeFile(node, `[storage]\nswift_dir = ${dir.path}\ndevices = ${dir.path}\n`);
    assert.is(loadStorageNodeConfig(node)['swift-hash'].swift_hash_path_suffix, 'shared-secret');
    const proxy = join(dir.path, 'proxy.conf');
    await writeFile(proxy, `[proxy-server]\nswift_dir = ${dir.path}\n`);
    assert.is(loadProxyConfig(proxy)['swift-hash'].swift_hash_path_suffix, 'shared-secret');
    // The same secret in the node's own file is fine; another one is refused at start.
    await writeFile(node, `[swift-hash]\nswift_hash_path_suffix = shared-secret\n[storage]\nswift_dir = ${dir.path}\n`);
    assert.is(loadStorageNodeConfig(node)['swift-hash'].swift_hash_path_suffix, 'shared-secret');
    await writeFile(node, `[swift-hash]\nswift_hash_path_suffix = another\n[storage]\nswift_dir = ${dir.path}\n`);
    assert.throws(() => loadStorageNodeConfig(node), /sets a hash-path secret that differs from .*swiftlet\.conf's/);
    // Without swiftlet.conf, the node's own section is used.
    await writeFile(node, `[swift-hash]\nswift_hash_path_suffix = own\n[storage]\nswift_dir = ${join(dir.path, 'elsewhere')}\n`);
    assert.is(loadStorageNodeConfig(node)['swift-hash'].swift_hash_path_suffix, 'own');
  } finally {
    await dir.remove();
  }
});

test('a node file may hold the proxy\'s sections and the proxy the node\'s; a misspelled one stops both', async () => {
  const dir = await makeTempDir('swiftlet-node-config-');
  try {
    const both = join(dir.path, 'both.conf');
    await writeFile(both, `[swift-hash]\nswift_hash_path_suffix = s\n[storage]\nswift_dir = ${dir.path}\n[object-server]\nbind_port = 6200\n[proxy-server]\nswift_dir = ${dir.path}\n[tempauth]\nuser_a_b = c\n`);
    assert.is(loadStorageNodeConfig(both)['object-server'].bind_port, 6200);
    assert.is(loadProxyConfig(both)['proxy-server'].swift_dir, dir.path);
    await writeFile(both, `[swift-hash]\nswift_hash_path_suffix = s\n[storage]\nswift_dir = ${dir.path}\n[object-sever]\nbind_port = 6200\n`);
    assert.throws(() => loadStorageNodeConfig(both), /\[object-sever\]: unknown section; did you mean \[object-server\]\?/);
    assert.throws(() => loadProxyConfig(both), /\[object-sever\]: unknown section/);
  } finally {
    await dir.remove();
  }
});

test('storage policies come from swiftlet.conf too; a node with other ones is refused, one with none takes the cluster\'s', async () => {
  const dir = await makeTempDir('swiftlet-node-config-');
  try {
    const node = join(dir.path, 'storage.conf');
    const proxy = join(dir.path, 'proxy.conf');
    await writeFile(node, `[storage]\nswift_dir = ${dir.path}\ndevices = ${dir.path}\n`);
    await writeFile(proxy, `[proxy-server]\nswift_dir = ${dir.path}\n`);
    // A cluster file with only the secret: no policies anywhere is Policy-0 alone (the sections are empty).
    await writeFile(join(dir.path, 'swiftlet.conf'), '[swift-hash]\nswift_hash_path_suffix = s\n');
    assert.equal(loadStorageNodeConfig(node)['storage-policy:*'], {});
    const policies = '[storage-policy:0]\nname = gold\ndefault = yes\n[storage-policy:1]\nname = silver\n';
    await writeFile(join(dir.path, 'swiftlet.conf'), `[swift-hash]\nswift_hash_path_suffix = s\n${policies}`);
    for (const config of [loadStorageNodeConfig(node), loadProxyConfig(proxy)]) {
      assert.equal(Object.keys(config['storage-policy:*']), ['0', '1']);
      assert.is(config['storage-policy:*']['1']?.name, 'silver');
    }
    // The same sections in the node's file are fine; others are refused at start.
    await writeFile(node, `${policies}[storage]\nswift_dir = ${dir.path}\n`);
    assert.is(loadStorageNodeConfig(node)['storage-policy:*']['0']?.name, 'gold');
    await writeFile(node, `[storage-policy:0]\nname = gold\n[storage]\nswift_dir = ${dir.path}\n`);
    assert.throws(() => loadStorageNodeConfig(node), /declares storage policies that differ from .*swiftlet\.conf's/);
    // A cluster file without policies leaves the node's own.
    await writeFile(join(dir.path, 'swiftlet.conf'), '[swift-hash]\nswift_hash_path_suffix = s\n');
    assert.equal(Object.keys(loadStorageNodeConfig(node)['storage-policy:*']), ['0']);
  } finally {
    await dir.remove();
  }
});

test.run();
