import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultStorageProcesses, groupNodes } from '../../../cli/aio.ts';
import { loadStorageNodeConfig } from '../../../cli/node-config.ts';
import { runStorageProcess } from '../../../cli/storage-process.ts';
import { ConfigError } from '../../../common/errors.ts';
import { createLogger } from '../../../common/logger.ts';
import { httpRequest } from '../../helpers/http.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

async function nodeConfig(dir: string, name: string, devices: string): Promise<{ name: string; config: ReturnType<typeof loadStorageNodeConfig> }> {
  await mkdir(join(devices, 'd1'), { recursive: true });
  const path = join(dir, `${name}.conf`);
  await writeFile(path, [
    '[swift-hash]', 'swift_hash_path_suffix = s',
    '[storage]', `devices = ${devices}`, 'mount_check = false', 'bind_ip = 127.0.0.1', `swift_dir = ${dir}`, 'run_daemons = false',
    '[object-server]', 'bind_port = 0',
    '[container-server]', 'bind_port = 0',
    '[account-server]', 'bind_port = 0',
  ].join('\n'));
  return { name, config: loadStorageNodeConfig(path) };
}

const quiet = () => createLogger({ level: 'error' });

test('two storage nodes in one process each serve their own devices on their own ports', async () => {
  const dir = await makeTempDir();
  try {
    const nodes = [await nodeConfig(dir.path, 'node1', join(dir.path, 'n1')), await nodeConfig(dir.path, 'node2', join(dir.path, 'n2'))];
    const running = await runStorageProcess(nodes, { logger: quiet });
    try {
      const [a, b] = running.nodes.map((n) => n.ports.object) as [number, number];
      assert.is.not(a, b);
      const put = await httpRequest(a, 'PUT', '/d1/0/AUTH_a/c/o', { 'X-Timestamp': '1700000000.00000', 'Content-Type': 'text/plain', 'Content-Length': '5' }, 'hello');
      assert.is(put.status, 201);
      assert.is((await httpRequest(a, 'GET', '/d1/0/AUTH_a/c/o')).body.toString(), 'hello');
      assert.is((await httpRequest(b, 'GET', '/d1/0/AUTH_a/c/o')).status, 404, 'the other node has its own device');
      const container = running.nodes[1]?.ports.container as number;
      assert.is((await httpRequest(container, 'PUT', '/d1/0/AUTH_a/c', { 'X-Timestamp': '1700000000.00000' })).status, 201);
    } finally {
      await running.close();
    }
  } finally {
    await dir.remove();
  }
});

test('two nodes of one process on the same devices directory are refused before either serves', async () => {
  const dir = await makeTempDir();
  try {
    const shared = join(dir.path, 'devs');
    const nodes = [await nodeConfig(dir.path, 'node1', shared), await nodeConfig(dir.path, 'node2', `${shared}/`)];
    const err = await runStorageProcess(nodes, { logger: quiet }).then(() => undefined, (e: unknown) => e);
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, /node1 and node2 in one process would share it/);
  } finally {
    await dir.remove();
  }
});

test('the all-in-one cluster runs its four nodes in one storage process per two cores', () => {
  assert.equal([1, 2, 3, 4, 5, 8, 64].map((cores) => defaultStorageProcesses(cores)), [1, 1, 1, 2, 2, 4, 4]);
  assert.equal(groupNodes(1), [[1, 2, 3, 4]]);
  assert.equal(groupNodes(2), [[1, 3], [2, 4]]);
  assert.equal(groupNodes(3), [[1, 4], [2], [3]]);
  assert.equal(groupNodes(4), [[1], [2], [3], [4]]);
});

test.run();
