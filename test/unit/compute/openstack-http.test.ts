import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { GlanceImageApi } from '../../../compute/image-api.ts';
import { NeutronNetworkApi } from '../../../compute/network-api.ts';
import { ServiceCallError } from '../../../compute/openstack-http.ts';
import { freePort } from '../../../bench/free-port.ts';

/** The Glance and Neutron clients on the wire: paths, token, bodies, and what each status means. */
interface Seen {
  method: string;
  url: string;
  token: string | undefined;
  body: string;
  serviceToken?: string;
}
let server: Server;
let url: string;
const seen: Seen[] = [];
const http = new UndiciBackendClient();

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });
}

test.before(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    const service = req.headers['x-service-token'] as string | undefined;
    seen.push({ method: req.method ?? '', url: req.url ?? '', token: req.headers['x-auth-token'] as string | undefined, body, ...(service !== undefined ? { serviceToken: service } : {}) });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const u = req.url ?? '';
    if (u === '/v2/images/img-1') return json(200, { id: 'img-1', name: 'cirros', status: 'active', disk_format: 'qcow2', container_format: 'bare', size: 5, min_disk: 0, min_ram: 0 });
    if (u === '/v2/images/img-1/file') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      return res.end('bytes');
    }
    if (u === '/v2/images/broken') return json(500, {});
    if (u === '/v2.0/networks/net-1') return json(200, { network: { id: 'net-1', name: 'private' } });
    if (u === '/v2.0/networks') return json(200, { networks: [{ id: 'net-1', name: 'private' }, { id: 'ext', name: 'public', 'router:external': true }] });
    if (u.startsWith('/v2.0/ports?device_id=')) return json(200, { ports: [] });
    if (u === '/v2.0/ports' && req.method === 'POST') {
      const asked = JSON.parse(body).port;
      if (asked.network_id === 'full') return json(409, { NeutronError: { type: 'IpAddressGenerationFailure', message: 'No more IP addresses available on network full.', detail: '' } });
      return json(201, { port: { id: 'port-1', mac_address: 'fa:16:3e:00:00:01', fixed_ips: [{ subnet_id: 's', ip_address: '10.0.0.5' }], ...asked } });
    }
    if (u === '/v2.0/ports/port-1' && req.method === 'DELETE') {
      res.writeHead(204);
      return res.end();
    }
    return json(404, { NeutronError: { type: 'NotFound', message: 'not found', detail: '' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  await http.close();
  await new Promise((resolve) => server.close(resolve));
});

test('Glance: GET /v2/images/{id} with the token; 404 is undefined; the file streams; a 500 is a ServiceCallError', async () => {
  const glance = new GlanceImageApi(url, http);
  const image = await glance.get('tok', 'img-1');
  assert.is(image?.disk_format, 'qcow2');
  assert.equal(seen.at(-1), { method: 'GET', url: '/v2/images/img-1', token: 'tok', body: '' });
  assert.is(await glance.get('tok', 'nope'), undefined);
  const chunks: Buffer[] = [];
  for await (const c of await glance.download('tok', 'img-1')) chunks.push(c);
  assert.is(Buffer.concat(chunks).toString(), 'bytes');
  await glance.get('tok', 'broken').then(() => assert.unreachable(), (err) => assert.ok(err instanceof ServiceCallError && err.status === 500));
});

test('Neutron: networks (external ones left out for auto), ports by device_id, create with the binding, 409 kept, delete', async () => {
  const neutron = new NeutronNetworkApi(`${url}/`, http);
  assert.is((await neutron.getNetwork('tok', 'net-1'))?.name, 'private');
  assert.is(await neutron.getNetwork('tok', 'nope'), undefined);
  assert.equal((await neutron.listNetworks('tok')).map((n) => n.id), ['net-1']);
  assert.equal(await neutron.listPorts('tok', 'server-1'), []);
  assert.is(seen.at(-1)?.url, '/v2.0/ports?device_id=server-1');
  const port = await neutron.createPort('tok', { network_id: 'net-1', device_id: 'server-1', 'binding:host_id': 'node1' });
  assert.is(port.id, 'port-1');
  assert.equal(JSON.parse(seen.at(-1)?.body ?? ''), { port: { network_id: 'net-1', device_id: 'server-1', 'binding:host_id': 'node1' } });
  await neutron.createPort('tok', { network_id: 'full' }).then(() => assert.unreachable(), (err) => assert.ok(err instanceof ServiceCallError && err.status === 409 && err.message.includes('IpAddressGenerationFailure')));
  assert.is(await neutron.deletePort('tok', 'port-1'), true);
  assert.is(await neutron.deletePort('tok', 'port-2'), false);
});

test('with compute\'s own credential, every call carries its token as X-Service-Token beside the user\'s (Nova\'s send_service_user_token)', async () => {
  const service = { token: async () => 'nova-token' };
  await new GlanceImageApi(url, http, service).get('user-tok', 'img-1');
  assert.equal(seen.at(-1), { method: 'GET', url: '/v2/images/img-1', token: 'user-tok', body: '', serviceToken: 'nova-token' });
  for await (const _ of await new GlanceImageApi(url, http, service).download('user-tok', 'img-1'));
  assert.is(seen.at(-1)?.serviceToken, 'nova-token');
  await new NeutronNetworkApi(url, http, service).createPort('user-tok', { network_id: 'net-1' });
  assert.equal([seen.at(-1)?.token, seen.at(-1)?.serviceToken], ['user-tok', 'nova-token']);
});

test('a service that does not answer is a 503 ServiceCallError naming its URL (Nova\'s "Connection to glance host ... failed")', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const err = await new GlanceImageApi(dead, http).get('tok', 'img-1').then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ServiceCallError);
  assert.is(err.status, 503);
  assert.match(err.message, `Connection to image host ${dead} failed`);
});

test.run();
