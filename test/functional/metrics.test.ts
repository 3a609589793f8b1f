import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

/** The value of one sample line (`name{labels} value`) of Prometheus text, or 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Checks the text exposition format line by line: HELP/TYPE comments, then `name{labels} value`. */
function assertPrometheusText(text: string): void {
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? -?(\d+(\.\d+)?(e[+-]?\d+)?|\+Inf|NaN)$/, `not a Prometheus sample line: ${line}`);
  }
}

test('GET /metrics on the proxy and on a storage node: valid Prometheus text whose counters move with traffic', async () => {
  const c = await startCluster();
  try {
    const before = await httpRequest(c.port, 'GET', '/metrics');
    assert.is(before.status, 200);
    assert.match(before.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const body = Buffer.alloc(4096, 7);
    assert.is((await c.request('PUT', '/v1/AUTH_test/m')).status, 201);
    assert.is((await c.request('PUT', '/v1/AUTH_test/m/o', {}, body)).status, 201);
    for (let i = 0; i < 3; i++) assert.is((await c.request('GET', '/v1/AUTH_test/m/o')).body.length, 4096);
    const missing = await c.request('GET', '/v1/AUTH_test/m/missing');
    assert.is(missing.status, 404);

    const after = (await httpRequest(c.port, 'GET', '/metrics')).body.toString();
    assertPrometheusText(after);
    const get = 'swiftlet_proxy_requests_total{type="object",method="GET",policy="0",status="200"}';
    assert.is(sample(after, get), 3);
    assert.is(sample(after, 'swiftlet_proxy_requests_total{type="object",method="GET",policy="0",status="404"}'), 1);
    assert.is(sample(after, 'swiftlet_proxy_requests_total{type="object",method="PUT",policy="0",status="201"}'), 1);
    assert.is(sample(after, 'swiftlet_proxy_requests_total{type="container",method="PUT",policy="",status="201"}'), 1);
    assert.is(sample(after, 'swiftlet_proxy_request_duration_seconds_count{type="object",method="GET",policy="0",status="200"}'), 3);
    assert.is(sample(after, 'swiftlet_proxy_request_bytes_total{type="object",method="PUT",policy="0"}'), 4096);
    assert.is(sample(after, 'swiftlet_proxy_response_bytes_total{type="object",method="GET",policy="0"}'), 3 * 4096 + missing.body.length, 'bodies sent, the 404 page too');
    assert.is(sample(after, 'swiftlet_ring_version{ring="object"}'), c.rings.object.version);
    assert.is(sample(after, 'swiftlet_proxy_requests_total{type="other",method="GET",policy="",status="200"}'), 1, 'the token request; scrapes are not counted as traffic');

    const node = c.nodes[0];
    assert.ok(node);
    const storage = await httpRequest(node.ports.object, 'GET', '/metrics');
    assert.is(storage.status, 200);
    const text = storage.body.toString();
    assertPrometheusText(text);
    assert.ok(sample(text, 'swiftlet_storage_requests_total{server="object",method="PUT",status="201"}') + sample(text, 'swiftlet_storage_requests_total{server="container",method="PUT",status="201"}') > 0, text);
    assert.is(sample(text, `swiftlet_device_mounted{device="${node.device}"}`), 1);
    assert.ok(sample(text, `swiftlet_device_bytes{device="${node.device}",kind="size"}`) > 0);
    assert.is(sample(text, 'swiftlet_async_pendings'), 0);
    assert.is(sample(text, 'swiftlet_quarantined{kind="objects"}'), 0);
    assert.is(sample(text, 'swiftlet_misplaced_objects'), 0);
    await c.runDaemons('object-replicator');
    const later = (await httpRequest(node.ports.object, 'GET', '/metrics')).body.toString();
    assert.is(sample(later, 'swiftlet_daemon_passes{daemon="object-replicator"}'), 1);
    assert.ok(sample(later, 'swiftlet_daemon_last_pass_timestamp_seconds{daemon="object-replicator"}') > 0);
  } finally {
    await c.close();
  }
});

test('a stopped storage node shows in the proxy\'s backend errors', async () => {
  const c = await startCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/m')).status, 201);
    await c.stopNode(1);
    for (let i = 0; i < 6; i++) assert.is((await c.request('PUT', `/v1/AUTH_test/m/o${i}`, {}, 'x')).status, 201);
    const text = (await httpRequest(c.port, 'GET', '/metrics')).body.toString();
    const errors = text.split('\n').filter((l) => l.startsWith('swiftlet_proxy_backend_errors_total{'));
    const down = c.nodes[0];
    assert.ok(down);
    assert.ok(errors.some((l) => l.includes(`node="127.0.0.1:${down.ports.object}/${down.device}"`)), errors.join('\n'));
  } finally {
    await c.close();
  }
});

test.run();
