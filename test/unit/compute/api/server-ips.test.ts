import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServerOnAgent } from '../../../helpers/compute.ts';

/** `GET /servers/{id}/ips[/{network}]` as Nova's ips.py answers. */
test("/ips: the server's addresses by network label, version and address only; one network; 404 for another", async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }] });
  try {
    const server = (await s.c.request('GET', `/v2.1/servers/${s.id}`, { token: s.demo })).json.server;
    const [label, list] = Object.entries(server.addresses as Record<string, Array<{ version: number; addr: string }>>)[0] ?? [];
    assert.ok(label && list && list.length > 0);
    const all = await s.c.request('GET', `/v2.1/servers/${s.id}/ips`, { token: s.demo });
    assert.equal(all.json, { addresses: { [label]: list.map((a) => ({ version: a.version, addr: a.addr })) } });
    assert.equal((await s.c.request('GET', `/v2.1/servers/${s.id}/ips/${label}`, { token: s.demo })).json, { [label]: list.map((a) => ({ version: a.version, addr: a.addr })) });
    assert.equal((await s.c.request('GET', `/v2.1/servers/${s.id}/ips/elsewhere`, { token: s.demo })).json, { itemNotFound: { code: 404, message: 'Instance is not a member of specified network' } });
  } finally {
    await s.close();
  }
});

test.run();
