import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { httpRequest } from '../helpers/http.ts';
import { startProbeCluster } from '../../bench/process-cluster.ts';

const SWIFTLET = join(import.meta.dirname, '../../cli/swiftlet.ts');

/** Gives node `n` a swift_dir of its own (as a machine of its own has), a copy of the cluster's. */
async function ownSwiftDir(etc: string, nodeConfig: string, n: number): Promise<string> {
  const dir = join(etc, '..', `etc-node${n}`);
  await mkdir(dir, { recursive: true });
  for (const name of (await readdir(etc)).filter((f) => f.endsWith('.ring.gz') || f === 'swiftlet.conf')) await copyFile(join(etc, name), join(dir, name));
  await writeFile(nodeConfig, (await readFile(nodeConfig, 'utf8')).replace(/^swift_dir = .*$/m, `swift_dir = ${dir}`));
  return dir;
}

test('swiftlet status names the node and the cause of a stale ring, a wrong hash-path secret and a stopped node, and exits 1 (each was reported nowhere)', async () => {
  const c = await startProbeCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe')).status, 201);
    for (let i = 0; i < 20; i++) assert.is((await c.request('PUT', `/v1/AUTH_test/probe/o${i}`, {}, `body ${i}`)).status, 201);
    const healthy = await c.swiftlet(['status']);
    assert.is(healthy.code, 0, healthy.output);
    assert.match(healthy.output, /rings: every node has the same rings/);
    assert.match(healthy.output, /status: OK, 4 storage node\(s\)/);
    const json = JSON.parse((await c.swiftlet(['status', '--json'])).output) as { ok: boolean; nodes: { name: string; up: boolean }[] };
    assert.is(json.ok, true);
    assert.equal(json.nodes.map((n) => [n.name, n.up]), [['node1', true], ['node2', true], ['node3', true], ['node4', true]]);

    // Node 2 keeps its own copy of the rings; the cluster's are rebalanced without it.
    await ownSwiftDir(c.layout.etc, c.layout.nodeConfig(2), 2);
    await c.kill(2);
    await c.start(2);
    const ring = (...args: string[]): void => {
      const r = spawnSync(process.execPath, [SWIFTLET, 'ring', ...args], { cwd: c.layout.etc, encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
    };
    ring('set_weight', 'object.builder', 'd0', '50');
    ring('rebalance', 'object.builder');

    // Node 3 is given another hash-path secret (its own swiftlet.conf) and restarted.
    const dir3 = await ownSwiftDir(c.layout.etc, c.layout.nodeConfig(3), 3);
    // Its copy of swiftlet.conf keeps the cluster's storage policies; only the secret differs.
    const conf3 = join(dir3, 'swiftlet.conf');
    await writeFile(conf3, (await readFile(conf3, 'utf8')).replace(/^swift_hash_path_suffix = .*$/m, 'swift_hash_path_suffix = not-the-cluster-secret'));
    await writeFile(c.layout.nodeConfig(3), (await readFile(c.layout.nodeConfig(3), 'utf8')).replace(/^swift_hash_path_suffix = .*$/m, 'swift_hash_path_suffix = not-the-cluster-secret'));
    await c.kill(3);
    await c.start(3);
    await waitFor(async () => {
      const recon = JSON.parse((await httpRequest(c.rings().object.devices.find((d) => d.device === 'd3')?.port ?? 0, 'GET', '/recon/hashpath')).body.toString()) as { placement?: { misplaced: number } };
      return (recon.placement?.misplaced ?? 0) > 0;
    });

    // Node 4 stops.
    await c.kill(4);

    const broken = await c.swiftlet(['status']);
    assert.is(broken.code, 1, broken.output);
    assert.match(broken.output, /^node4 +\S+ +DOWN/m);
    assert.match(broken.output, /^PROBLEM: node2: STALE RING: its object\.ring\.gz is older than proxy \(.*\)'s \(version 1, not 2\)/m);
    assert.match(broken.output, /^PROBLEM: node3: WRONG HASH-PATH SECRET: its secret's digest is [0-9a-f]{16}, proxy \(.*\)'s [0-9a-f]{16}/m);
    assert.match(broken.output, /^PROBLEM: node3: \d+ object\(s\) do not hash to where they lie under its secret/m);
    assert.match(broken.output, /^PROBLEM: node4: DOWN: recon at 127\.0\.0\.1:\d+ does not answer/m);
    assert.not.match(broken.output, /^PROBLEM: node1/m);
    assert.not.match(broken.output, /every node has the same rings/);
    assert.match(broken.output, /^status: 4 problem\(s\)$/m, broken.output);
    const log3 = await readFile(join(c.layout.log, 'node3.log'), 'utf8');
    assert.match(log3, /"level":"error".*do not hash to their place under the configured hash-path secret/, 'node 3 says so itself, at error level');
  } finally {
    await c.close();
  }
});

async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.run();
