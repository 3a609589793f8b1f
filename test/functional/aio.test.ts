import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import { parse as parseYaml } from 'yaml';
import * as assert from 'uvu/assert';
import { freePort, freePortBase } from '../../bench/free-port.ts';
import { httpRequest } from '../helpers/http.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

const swiftlet = join(import.meta.dirname, '../../cli/swiftlet.ts');

interface ServicePorts {
  readonly identity: number;
  readonly network: number;
  readonly compute: number;
  readonly volume: number;
  readonly image: number;
}

/**
 * Five free ports, none another's nor one of `taken` (the proxy's): `freePort` draws from 2,768
 * ports, so six draws repeat one about once in 200 runs, and aio refuses a port given twice
 * (regression: "invalid --network-port" ended the test file early).
 */
async function servicePorts(...taken: number[]): Promise<ServicePorts> {
  const seen = new Set(taken);
  const next = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!seen.has(p)) {
        seen.add(p);
        return p;
      }
    }
  };
  return { identity: await next(), network: await next(), compute: await next(), volume: await next(), image: await next() };
}

interface Running {
  child: ChildProcess;
  lines: string[];
  waitFor(pattern: RegExp): Promise<string>;
}

/** `services`: the identity, network, compute and volume services' ports (`--<name>-port`). */
function runAio(data: string, port: number, base: number, services: ServicePorts, extra: readonly string[] = []): Running {
  const servicePorts = Object.entries(services).flatMap(([name, p]) => [`--${name}-port`, String(p)]);
  const child = spawn(process.execPath, [swiftlet, 'aio', '--data', data, '--port', String(port), ...servicePorts, '--storage-port-base', String(base), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  return {
    child,
    lines,
    waitFor: (pattern) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

/** The admin's project token from the identity service, with the password in the aio's clouds.yaml. */
async function identityToken(data: string, port: number, user: 'admin' | 'demo' = 'admin'): Promise<string> {
  const clouds = parseYaml(await readFile(join(data, 'etc', 'clouds.yaml'), 'utf8')) as { clouds: Record<string, { auth: { password: string } }> };
  const password = clouds.clouds[`swiftlet-${user}`]?.auth.password ?? '';
  const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } }, scope: { project: { name: user, domain: { name: 'Default' } } } } });
  const res = await httpRequest(port, 'POST', '/v3/auth/tokens', { 'Content-Type': 'application/json' }, body);
  assert.is(res.status, 201, res.body.toString());
  return res.headers['x-subject-token'] ?? '';
}

async function stop(running: Running): Promise<number | null> {
  if (running.child.exitCode !== null) return running.child.exitCode;
  const exited = new Promise<number | null>((resolve) => running.child.once('exit', (code) => resolve(code)));
  running.child.kill('SIGTERM');
  return exited;
}

test('swiftlet aio: one command, a working cluster; pid files; a dead storage process is restarted; SIGTERM stops it all', async () => {
  const dir = await makeTempDir('swiftlet-aio-');
  const port = await freePort();
  const base = await freePortBase();
  const services = await servicePorts(port);
  const { identity: identityPort, network: networkPort, volume: volumePort, compute: computePort, image: imagePort } = services;
  let running = runAio(dir.path, port, base, services, ['--storage-processes', '2', '--proxy-workers', '2']);
  try {
    await running.waitFor(/^ready: proxy on http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(running.lines.some((l) => /created a new cluster/.test(l)));
    assert.ok(running.lines.includes('storage1: node1 node3'), running.lines.join('\n'));
    assert.ok(running.lines.includes('storage2: node2 node4'));
    const auth = await httpRequest(port, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    assert.is(auth.status, 200);
    const token = { 'X-Auth-Token': auth.headers['x-auth-token'] ?? '' };
    assert.is((await httpRequest(port, 'PUT', '/v1/AUTH_test/c', token)).status, 201);
    assert.is((await httpRequest(port, 'PUT', '/v1/AUTH_test/c/o', token, 'kept across restarts')).status, 201);
    for (const name of ['proxy', 'storage1', 'storage2', 'identity', 'network', 'compute', 'volume']) assert.ok(existsSync(join(dir.path, 'run', `${name}.pid`)), `${name}.pid`);

    // Regression (a storage process grew to 360-450 MB under a 4 KiB PUT flood: V8's young
    // generation at its default bound of two 64 MiB semi-spaces, a malloc arena per thread):
    // each storage process runs with the bounds of cli/storage-process-launch.ts.
    for (const name of ['storage1', 'storage2']) {
      const pid = Number(await readFile(join(dir.path, 'run', `${name}.pid`), 'utf8'));
      assert.ok((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').includes('--max-semi-space-size=16'), `${name}: young generation bounded`);
      assert.ok((await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').includes('MALLOC_ARENA_MAX=2'), `${name}: two malloc arenas`);
    }
    // Regression (every process of the aio loaded Node's type stripper, ~17-20 MB resident
    // each, for its entry module alone, which it read before enabling the compile cache): each
    // child is started with the cache's directory, so its entry comes from the cache too.
    for (const name of ['storage1', 'proxy', 'identity', 'volume']) {
      const pid = Number(await readFile(join(dir.path, 'run', `${name}.pid`), 'utf8'));
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      assert.ok(environ.some((e) => /^NODE_COMPILE_CACHE=.+/.test(e)), `${name}: started with the compile cache's directory`);
    }

    // Regression (an ACL change applied only in the proxy worker that made it; the others
    // served their cached ACL for up to a minute): each read is a new connection, which the
    // kernel gives to either worker, and each must see the ACL just set.
    const reader = await httpRequest(port, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester3', 'X-Auth-Key': 'testing3' });
    const asReader = { 'X-Auth-Token': reader.headers['x-auth-token'] ?? '' };
    for (let round = 0; round < 6; round++) {
      const open = round % 2 === 1;
      assert.is((await httpRequest(port, 'POST', '/v1/AUTH_test/c', { ...token, 'X-Container-Read': open ? 'test:tester3' : '' })).status, 204);
      for (let i = 0; i < 4; i++) assert.is((await httpRequest(port, 'GET', '/v1/AUTH_test/c/o', asReader)).status, open ? 200 : 403, `round ${round}, read ${i}`);
    }
    for (const name of ['swiftlet.conf', 'proxy.conf', 'node1.conf', 'object.ring.gz', 'container.builder']) assert.ok(existsSync(join(dir.path, 'etc', name)), name);
    // The aio's storage_domain (localhost) maps container hosts to the container.
    assert.is((await httpRequest(port, 'POST', '/v1/AUTH_test/c', { ...token, 'X-Container-Read': '.r:*' })).status, 204);
    assert.is((await httpRequest(port, 'GET', '/o', { Host: `c.AUTH_test.localhost:${port}` })).body.toString(), 'kept across restarts');
    // Each node keeps its own ports whichever process runs it.
    for (const offset of [10, 20, 30, 40]) assert.is((await httpRequest(base + offset, 'GET', '/recon/ringmd5')).status, 200, `object port ${base + offset}`);
    // Two storage policies, as Swift's SAIO: gold (default, 3 replicas) and silver (2 replicas).
    const info = JSON.parse((await httpRequest(port, 'GET', '/info')).body.toString()) as { swift: { policies: { name: string; default?: boolean }[] }; container_sync: unknown };
    assert.equal(info.swift.policies.map((p) => [p.name, p.default ?? false]), [['gold', true], ['silver', false]]);
    // One container-sync realm, this cluster its current (and only) cluster.
    assert.equal(info.container_sync, { realms: { SWIFTLET: { clusters: { AIO: { current: true } } } } });
    const rings = Object.keys(JSON.parse((await httpRequest(base + 10, 'GET', '/recon/ringmd5')).body.toString()) as Record<string, string>).map((p) => p.split('/').pop());
    assert.equal(rings.sort(), ['account.ring.gz', 'container.ring.gz', 'object-1.ring.gz', 'object.ring.gz']);
    assert.is((await httpRequest(port, 'PUT', '/v1/AUTH_test/s', { ...token, 'X-Storage-Policy': 'silver' })).status, 201);
    assert.is((await httpRequest(port, 'PUT', '/v1/AUTH_test/s/o', token, 'silver')).status, 201);
    assert.is((await httpRequest(port, 'GET', '/v1/AUTH_test/s/o', token)).body.toString(), 'silver');
    assert.is((await httpRequest(port, 'HEAD', '/v1/AUTH_test/s', token)).headers['x-storage-policy'], 'silver');

    // The identity service answers with the admin password clouds.yaml names, and says how to use it.
    assert.ok(running.lines.some((l) => l.includes(`export OS_CLIENT_CONFIG_FILE=${join(dir.path, 'etc', 'clouds.yaml')} OS_CLOUD=swiftlet-admin`)), running.lines.join('\n'));
    const adminToken = await identityToken(dir.path, identityPort);
    assert.match(adminToken, /^gAAAAA/);
    // The volume service (Cinder v3) answers with that token.
    assert.is((await httpRequest(volumePort, 'GET', '/')).status, 300);
    assert.is((await httpRequest(volumePort, 'GET', '/v3/volumes', { 'X-Auth-Token': adminToken })).status, 200);
    // The network service takes the same tokens; what it makes is in the cluster.
    const neutron = async (method: string, path: string, body?: unknown) => {
      const res = await httpRequest(networkPort, method, path, { 'X-Auth-Token': adminToken, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body ? JSON.stringify(body) : undefined);
      return { status: res.status, json: JSON.parse(res.body.toString() || '{}') };
    };
    const madeNet = (await neutron('POST', '/v2.0/networks', { network: { name: 'kept' } })).json.network;
    assert.is((await neutron('POST', '/v2.0/subnets', { subnet: { network_id: madeNet.id, ip_version: 4, cidr: '10.3.0.0/24' } })).status, 201);
    assert.is((await neutron('POST', '/v2.0/ports', { port: { network_id: madeNet.id, name: 'kept-port' } })).status, 201);
    const networkState = async () => [
      (await neutron('GET', `/v2.0/networks/${madeNet.id}`)).json,
      (await neutron('GET', `/v2.0/subnets?network_id=${madeNet.id}`)).json,
      (await neutron('GET', `/v2.0/ports?network_id=${madeNet.id}`)).json,
    ];
    const networkBefore = await networkState();

    // A member's server, booted through the compute agent of a storage process (ports bound
    // with compute's own user, which the aio configured): ACTIVE with an address.
    const demoToken = await identityToken(dir.path, identityPort, 'demo');
    // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the service answered
    const call = async (servicePort: number, as: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await httpRequest(servicePort, method, path, { 'X-Auth-Token': as, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) }, body === undefined ? undefined : JSON.stringify(body));
      return { status: res.status, json: res.body.length > 0 && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(res.body.toString()) : undefined };
    };
    assert.is((await call(computePort, adminToken, 'POST', '/v2.1/flavors', { flavor: { name: 'tiny', id: 'tiny', ram: 64, vcpus: 1, disk: 1 } })).status, 200);
    const imageId = (await call(imagePort, adminToken, 'POST', '/v2/images', { name: 'disk', disk_format: 'raw', container_format: 'bare', visibility: 'public' })).json.id;
    assert.is((await httpRequest(imagePort, 'PUT', `/v2/images/${imageId}/file`, { 'X-Auth-Token': adminToken, 'Content-Type': 'application/octet-stream' }, 'a disk')).status, 204);
    const demoNet = (await call(networkPort, demoToken, 'POST', '/v2.0/networks', { network: { name: 'mine' } })).json.network;
    assert.is((await call(networkPort, demoToken, 'POST', '/v2.0/subnets', { subnet: { network_id: demoNet.id, ip_version: 4, cidr: '10.4.0.0/24' } })).status, 201);
    const serverId = (await call(computePort, demoToken, 'POST', '/v2.1/servers', { server: { name: 'kept-vm', imageRef: imageId, flavorRef: 'tiny', networks: [{ uuid: demoNet.id }] } })).json.server.id;
    const serverState = async () => {
      const s = (await call(computePort, demoToken, 'GET', `/v2.1/servers/${serverId}`)).json.server;
      return { status: s.status, host: s['OS-EXT-SRV-ATTR:host'], addresses: s.addresses, ports: (await call(networkPort, demoToken, 'GET', `/v2.0/ports?device_id=${serverId}`)).json.ports };
    };
    let server = await serverState();
    for (let i = 0; i < 600 && server.status === 'BUILD'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      server = await serverState();
    }
    assert.is(server.status, 'ACTIVE', JSON.stringify(server));
    assert.match(server.addresses.mine[0].addr, /^10\.4\.0\./);
    assert.is(server.ports.length, 1);

    // Kill a storage process (two nodes): the supervisor says so and starts it again.
    const pid = Number(await readFile(join(dir.path, 'run', 'storage2.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await running.waitFor(/^storage2 \(pid \d+\) exited .*restarting it/);
    assert.is((await httpRequest(port, 'GET', '/v1/AUTH_test/c/o', token)).body.toString(), 'kept across restarts');

    assert.is(await stop(running), 0);
    assert.ok(running.lines.includes('stopped'));
    assert.ok(!existsSync(join(dir.path, 'run', 'proxy.pid')), 'pid files are removed');
    await assert.not.ok(await httpRequest(port, 'GET', '/healthcheck').then(() => true, () => false), 'the proxy is gone');

    // A second start reuses the data; one process now runs all four nodes.
    assert.match(await readFile(join(dir.path, 'etc', 'proxy.conf'), 'utf8'), /^workers = 2$/m);
    running = runAio(dir.path, port, base, services, ['--storage-processes', '1', '--proxy-workers', '1']);
    await running.waitFor(/^ready:/);
    assert.ok(running.lines.some((l) => /using the cluster in/.test(l)));
    assert.match(await readFile(join(dir.path, 'etc', 'proxy.conf'), 'utf8'), /^workers = 1$/m, '--proxy-workers rewrites an existing cluster\'s');
    assert.ok(running.lines.includes('storage1: node1 node2 node3 node4'));
    assert.not.ok(existsSync(join(dir.path, 'run', 'storage2.pid')));
    const again = await httpRequest(port, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    assert.is((await httpRequest(port, 'GET', '/v1/AUTH_test/c/o', { 'X-Auth-Token': again.headers['x-auth-token'] ?? '' })).body.toString(), 'kept across restarts');
    // Same identity state and keys: the token from before the restart is still good.
    const check = await httpRequest(identityPort, 'GET', '/v3/auth/tokens', { 'X-Auth-Token': adminToken, 'X-Subject-Token': adminToken });
    assert.is(check.status, 200);
    // Every network, subnet and port as it was, and the server with its address and port.
    assert.equal(await networkState(), networkBefore);
    assert.equal(await serverState(), server);
  } finally {
    await stop(running);
    await dir.remove();
  }
});

test('SIGTERM while aio starts stops it and what it launched, at once (it died and left them running, or said "stopped" and polled for 300 s)', async () => {
  const dir = await makeTempDir('swiftlet-aio-early-');
  const port = await freePort();
  const running = runAio(dir.path, port, await freePortBase(), await servicePorts(port), ['--storage-processes', '1']);
  try {
    // Its processes are launched right after this line; the cluster is far from ready.
    await running.waitFor(/^storage1: /);
    const asked = performance.now();
    const code = await stop(running);
    const took = performance.now() - asked;
    assert.is(code, 1, running.lines.join('\n'));
    assert.ok(running.lines.includes('asked to stop before the cluster was ready'), running.lines.join('\n'));
    assert.not.ok(running.lines.some((l) => /not ready after/.test(l)), running.lines.join('\n'));
    assert.ok(running.lines.includes('stopped'));
    // Its children stop in their own time (a storage node closes its databases): well under the 300 s it waited.
    assert.ok(took < 30_000, `exited ${Math.round(took)} ms after SIGTERM`);
    assert.not.ok(existsSync(join(dir.path, 'run', 'proxy.pid')), 'pid files are removed');
    // Nothing it launched is left: no process has the cluster's configuration open.
    const left = spawnSync('pgrep', ['-f', dir.path], { encoding: 'utf8' }).stdout.trim();
    assert.is(left, '', `still running: ${left}`);
  } finally {
    await stop(running);
    await dir.remove();
  }
});

test('swiftlet aio --help prints usage and starts nothing; an unknown option is refused (aio --help started a cluster in ./data)', async () => {
  const dir = await makeTempDir('swiftlet-aio-help-');
  try {
    const help = spawnSync(process.execPath, [swiftlet, 'aio', '--help'], { cwd: dir.path, encoding: 'utf8', timeout: 20_000 });
    assert.is(help.status, 0);
    assert.match(help.stdout, /usage: swiftlet <command>/);
    assert.not.ok(existsSync(join(dir.path, 'data')), 'no cluster was created');
    const typo = spawnSync(process.execPath, [swiftlet, 'aio', '--prot', '9999'], { cwd: dir.path, encoding: 'utf8', timeout: 20_000 });
    assert.is(typo.status, 2);
    assert.match(typo.stderr, /unknown option --prot/);
    assert.not.ok(existsSync(join(dir.path, 'data')), 'no cluster was created');
    const processes = spawnSync(process.execPath, [swiftlet, 'aio', '--storage-processes', '5'], { cwd: dir.path, encoding: 'utf8', timeout: 20_000 });
    assert.is(processes.status, 2);
    assert.match(processes.stderr, /invalid --storage-processes 5: 1 to 4/);
    assert.not.ok(existsSync(join(dir.path, 'data')), 'no cluster was created');
    const status = spawnSync(process.execPath, [swiftlet, 'status', '--dta', 'x'], { cwd: dir.path, encoding: 'utf8', timeout: 20_000 });
    assert.is(status.status, 2);
    assert.match(status.stderr, /unknown option --dta/);
  } finally {
    await dir.remove();
  }
});

test.run();
