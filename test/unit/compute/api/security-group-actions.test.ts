import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server add/remove security group`: Nova's addSecurityGroup and removeSecurityGroup actions. */
test("a group by name or id added to and removed from the server's ports in Neutron, server show following; Nova's 404s, 409 and 400s", async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }] });
  try {
    const act = (body: unknown) => s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token: s.demo, body });
    const server = async () => (await s.c.request('GET', `/v2.1/servers/${s.id}`, { token: s.demo })).json.server;
    const project = (await server()).tenant_id as string;
    const web = { id: randomUUID(), name: 'web', project_id: project };
    s.c.networks.securityGroups.set(web.id, web);
    for (const name of ['dup', 'dup']) {
      const g = { id: randomUUID(), name, project_id: project };
      s.c.networks.securityGroups.set(g.id, g);
    }
    s.c.networks.securityGroups.set('other', { id: randomUUID(), name: 'theirs', project_id: 'another-project' });
    const port = () => [...s.c.networks.ports.values()].find((p) => p.device_id === s.id);
    assert.is((await act({ addSecurityGroup: { name: 'web' } })).status, 202);
    assert.equal(port()?.['security_groups'], [web.id]);
    assert.ok((await server()).security_groups.some((g: { name: string }) => g.name === 'web'));
    assert.is((await act({ addSecurityGroup: { name: web.id } })).status, 202, 'by id, already there');
    assert.equal(port()?.['security_groups'], [web.id]);
    assert.equal((await act({ addSecurityGroup: { name: 'nope' } })).json, { itemNotFound: { code: 404, message: `Security group nope is not found for project ${project}` } });
    assert.equal((await act({ addSecurityGroup: { name: 'theirs' } })).json.itemNotFound.message, `Security group theirs is not found for project ${project}`);
    assert.equal((await act({ addSecurityGroup: { name: 'dup' } })).json, { conflictingRequest: { code: 409, message: "Multiple security_group matches found for name 'dup', use an ID to be more specific." } });
    assert.equal((await act({ addSecurityGroup: { name: '  ' } })).json, { badRequest: { code: 400, message: 'Security group name cannot be empty' } });
    assert.match((await act({ addSecurityGroup: {} })).json.badRequest.message, /'name' is a required property$/);
    assert.is((await act({ removeSecurityGroup: { name: 'web' } })).status, 202);
    assert.equal(port()?.['security_groups'], []);
    assert.not.ok((await server()).security_groups.some((g: { name: string }) => g.name === 'web'));
    assert.equal((await act({ removeSecurityGroup: { name: 'web' } })).json, { itemNotFound: { code: 404, message: `Security group web not associated with the instance ${s.id}` } });
    // A server without ports.
    const bare = await s.c.request('POST', '/v2.1/servers', { token: s.demo, version: '2.37', body: { server: { name: 'bare', imageRef: s.imageIds[0], flavorRef: '1', networks: 'none' } } });
    await s.agent.agent.drain();
    const id = bare.json.server.id as string;
    assert.equal((await s.c.request('POST', `/v2.1/servers/${id}/action`, { token: s.demo, body: { addSecurityGroup: { name: 'web' } } })).json, { itemNotFound: { code: 404, message: `instance_id ${id} could not be found as device id on any ports` } });
  } finally {
    await s.close();
  }
});

test("os-security-groups (before 2.36): the project's groups from Neutron in Nova's format, ingress rules only; one by id; 404 after 2.35", async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }] });
  try {
    const project = (await s.c.request('GET', `/v2.1/servers/${s.id}`, { token: s.demo })).json.server.tenant_id as string;
    const web = randomUUID();
    const base = { port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null };
    s.c.networks.securityGroups.set(web, {
      id: web,
      name: 'web',
      project_id: project,
      description: 'web servers',
      security_group_rules: [
        { ...base, id: 'r1', security_group_id: web, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.0.0.0/8' },
        { ...base, id: 'r2', security_group_id: web, direction: 'ingress', protocol: 'udp' },
        { ...base, id: 'r3', security_group_id: web, direction: 'ingress', protocol: 'icmp' },
        { ...base, id: 'r4', security_group_id: web, direction: 'ingress', protocol: null, remote_group_id: web },
        { ...base, id: 'r5', security_group_id: web, direction: 'egress', protocol: null },
      ],
    });
    s.c.networks.securityGroups.set('x', { id: randomUUID(), name: 'theirs', project_id: 'another' });
    const list = await s.c.request('GET', '/v2.1/os-security-groups', { token: s.demo });
    assert.equal(list.json, {
      security_groups: [
        {
          id: web,
          description: 'web servers',
          name: 'web',
          tenant_id: project,
          rules: [
            { id: 'r1', parent_group_id: web, ip_protocol: 'tcp', from_port: 22, to_port: 22, group: {}, ip_range: { cidr: '10.0.0.0/8' } },
            { id: 'r2', parent_group_id: web, ip_protocol: 'udp', from_port: 1, to_port: 65535, group: {}, ip_range: { cidr: '0.0.0.0/0' } },
            { id: 'r3', parent_group_id: web, ip_protocol: 'icmp', from_port: -1, to_port: -1, group: {}, ip_range: { cidr: '0.0.0.0/0' } },
            { id: 'r4', parent_group_id: web, ip_protocol: null, from_port: null, to_port: null, group: { name: 'web', tenant_id: project }, ip_range: {} },
          ],
        },
      ],
    });
    assert.is((await s.c.request('GET', `/v2.1/os-security-groups/${web}`, { token: s.demo })).json.security_group.name, 'web');
    assert.equal((await s.c.request('GET', '/v2.1/os-security-groups/nope', { token: s.demo })).json, { itemNotFound: { code: 404, message: 'Security group nope does not exist' } });
    assert.is((await s.c.request('GET', '/v2.1/os-security-groups', { token: s.demo, version: '2.36' })).status, 404);
  } finally {
    await s.close();
  }
});

test.run();
