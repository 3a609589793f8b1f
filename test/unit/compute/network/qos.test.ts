import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork, type TestNetwork } from '../../../helpers/network.ts';

function client(n: TestNetwork) {
  return (method: string, path: string, token: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token, ...(body !== undefined ? { body } : {}) });
}

const errorOf = (res: { status: number; json: { NeutronError: { type: string; message: string } } }) => [res.status, res.json.NeutronError.type, res.json.NeutronError.message];

test('qos policies: admins make, change and delete them; members see their own and shared ones; is_default once per project', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const req = client(n);
    const demoProject = (await req('POST', 'networks', demo, { network: { name: 'x' } })).json.network.project_id as string;

    const refused = await req('POST', 'qos/policies', demo, { policy: { name: 'mine' } });
    assert.equal(errorOf(refused), [403, 'PolicyNotAuthorized', 'rule:create_policy is disallowed by policy']);
    assert.is((await req('GET', 'qos/policies', admin)).json.policies.length, 0, 'nothing made by the refused create');

    const made = await req('POST', 'qos/policies', admin, { policy: { name: 'gold', description: 'fast', project_id: demoProject } });
    assert.is(made.status, 201, JSON.stringify(made.json));
    const gold = made.json.policy;
    assert.equal([gold.name, gold.description, gold.shared, gold.is_default, gold.project_id, gold.tenant_id, gold.rules, gold.revision_number], ['gold', 'fast', false, false, demoProject, demoProject, [], 1]);
    const other = (await req('POST', 'qos/policies', admin, { policy: { name: 'admins' } })).json.policy;
    const names = async (token: string) => (await req('GET', 'qos/policies', token)).json.policies.map((p: { name: string }) => p.name).sort();
    assert.equal(await names(demo), ['gold'], "demo sees its project's policy only");
    assert.equal(await names(admin), ['admins', 'gold']);
    assert.equal(errorOf(await req('GET', `qos/policies/${other.id}`, demo)), [404, 'QosPolicyNotFound', `QoS policy ${other.id} could not be found.`]);
    assert.equal(errorOf(await req('PUT', `qos/policies/${gold.id}`, demo, { policy: { name: 'x' } })), [403, 'PolicyNotAuthorized', 'rule:update_policy is disallowed by policy']);
    assert.is((await req('DELETE', `qos/policies/${gold.id}`, demo)).status, 403);

    // Shared: everyone sees it.
    const shared = await req('PUT', `qos/policies/${other.id}`, admin, { policy: { shared: true } });
    assert.equal([shared.status, shared.json.policy.shared, shared.json.policy.revision_number], [200, true, 2]);
    assert.equal(await names(demo), ['admins', 'gold']);
    assert.is((await req('GET', 'qos/policies?shared=true', demo)).json.policies.length, 1, 'filtered by shared');

    // is_default: one per project.
    assert.is((await req('PUT', `qos/policies/${gold.id}`, admin, { policy: { is_default: true } })).json.policy.is_default, true);
    const second = await req('POST', 'qos/policies', admin, { policy: { name: 'silver', project_id: demoProject, is_default: true } });
    assert.equal(errorOf(second), [409, 'QoSPolicyDefaultAlreadyExists', `A default QoS policy exists for project ${demoProject}.`]);
    assert.not.ok((await names(admin)).includes('silver'), 'the refused default was not made');
    assert.is((await req('GET', `qos/policies/${gold.id}`, demo)).json.policy.is_default, true);
    assert.is((await req('PUT', `qos/policies/${gold.id}`, admin, { policy: { is_default: false } })).json.policy.is_default, false);
    assert.is((await req('POST', 'qos/policies', admin, { policy: { name: 'silver', project_id: demoProject, is_default: true } })).status, 201);

    // Bad input.
    assert.equal(errorOf(await req('POST', 'qos/policies', admin, { policy: { name: 'a', color: 'red' } })), [400, 'HTTPBadRequest', "Unrecognized attribute(s) 'color'"]);
    assert.equal(errorOf(await req('POST', 'qos/policies', admin, { policy: { shared: 'maybe' } })), [400, 'InvalidInput', "Invalid input for operation: 'maybe' cannot be converted to boolean."]);
    assert.is((await req('DELETE', `qos/policies/${other.id}`, admin)).status, 204);
    assert.is((await req('GET', `qos/policies/${other.id}`, admin)).status, 404);
  } finally {
    await n.close();
  }
});

test('qos rules: each type with its validation, one per type and direction, limits not under minimums, shown inline in the policy', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const req = client(n);
    const policy = (await req('POST', 'qos/policies', admin, { policy: { name: 'p', shared: true } })).json.policy.id as string;
    const path = (type: string, id = '') => `qos/policies/${policy}/${type}_rules${id ? `/${id}` : ''}`;

    const bw = await req('POST', path('bandwidth_limit'), admin, { bandwidth_limit_rule: { max_kbps: 10000 } });
    assert.is(bw.status, 201, JSON.stringify(bw.json));
    assert.equal(Object.keys(bw.json.bandwidth_limit_rule).sort(), ['direction', 'id', 'max_burst_kbps', 'max_kbps']);
    assert.equal([bw.json.bandwidth_limit_rule.max_burst_kbps, bw.json.bandwidth_limit_rule.direction], [0, 'egress']);
    const bwId = bw.json.bandwidth_limit_rule.id as string;
    const twin = await req('POST', path('bandwidth_limit'), admin, { bandwidth_limit_rule: { max_kbps: 5 } });
    assert.equal(errorOf(twin), [409, 'QoSRulesConflict', `Rule bandwidth_limit conflicts with rule ${bwId} which already exists in QoS Policy ${policy}.`]);
    assert.is((await req('POST', path('bandwidth_limit'), admin, { bandwidth_limit_rule: { max_kbps: 5, direction: 'ingress' } })).status, 201, 'the other direction is another rule');

    // A minimum above the limit in its direction conflicts.
    const tooHigh = await req('POST', path('minimum_bandwidth'), admin, { minimum_bandwidth_rule: { min_kbps: 20000 } });
    assert.equal(errorOf(tooHigh), [409, 'QoSRuleParameterConflict', `Unable to add the rule with value 20000 to the policy ${policy} as the existing rule of type bandwidth_limit has value 10000.`]);
    const min = await req('POST', path('minimum_bandwidth'), admin, { minimum_bandwidth_rule: { min_kbps: 2800, direction: 'egress' } });
    assert.is(min.status, 201);
    const lower = await req('PUT', path('bandwidth_limit', bwId), admin, { bandwidth_limit_rule: { max_kbps: 1000 } });
    assert.equal(errorOf(lower).slice(0, 2), [409, 'QoSRuleParameterConflict']);
    const set = await req('PUT', path('bandwidth_limit', bwId), admin, { bandwidth_limit_rule: { max_kbps: 15000, max_burst_kbps: 1800 } });
    assert.equal([set.status, set.json.bandwidth_limit_rule.max_kbps, set.json.bandwidth_limit_rule.max_burst_kbps], [200, 15000, 1800]);
    assert.equal(errorOf(await req('PUT', path('bandwidth_limit', bwId), admin, { bandwidth_limit_rule: { direction: 'ingress' } })).slice(0, 2), [409, 'QoSRulesConflict'], 'moving onto the ingress rule');

    // DSCP: allowed marks only, once per policy.
    assert.equal(errorOf(await req('POST', path('dscp_marking'), admin, { dscp_marking_rule: { dscp_mark: 9 } })), [400, 'HTTPBadRequest', 'Invalid input for dscp_mark. Reason: 9 is not in valid_values.']);
    assert.equal(errorOf(await req('POST', path('dscp_marking'), admin, { dscp_marking_rule: {} })), [400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'dscp_mark' not specified"]);
    const dscp = await req('POST', path('dscp_marking'), admin, { dscp_marking_rule: { dscp_mark: '8' } });
    assert.equal([dscp.status, dscp.json.dscp_marking_rule.dscp_mark], [201, 8]);
    assert.is((await req('POST', path('dscp_marking'), admin, { dscp_marking_rule: { dscp_mark: 16 } })).status, 409);

    // Minimum packet rate: `any` does not mix with a direction.
    assert.equal(errorOf(await req('POST', path('minimum_packet_rate'), admin, { minimum_packet_rate_rule: { min_kpps: -1 } })), [400, 'HTTPBadRequest', "Invalid input for min_kpps. Reason: '-1' is too small - must be at least '0'."]);
    const pps = await req('POST', path('minimum_packet_rate'), admin, { minimum_packet_rate_rule: { min_kpps: 2800 } });
    assert.equal([pps.status, pps.json.minimum_packet_rate_rule.direction], [201, 'egress']);
    const any = await req('POST', path('minimum_packet_rate'), admin, { minimum_packet_rate_rule: { min_kpps: 1, direction: 'any' } });
    assert.equal(errorOf(any), [409, 'QoSRuleParameterConflict', `Unable to add the rule with value any to the policy ${policy} as the existing rule of type minimum_packet_rate has value egress.`]);
    const ppsId = pps.json.minimum_packet_rate_rule.id as string;
    assert.is((await req('PUT', path('minimum_packet_rate', ppsId), admin, { minimum_packet_rate_rule: { min_kpps: 7500, direction: 'any' } })).json.minimum_packet_rate_rule.direction, 'any', 'the one rule may become any');

    // Members read, admins write.
    assert.is((await req('POST', path('dscp_marking'), demo, { dscp_marking_rule: { dscp_mark: 8 } })).status, 403);
    assert.equal(errorOf(await req('DELETE', path('bandwidth_limit', bwId), demo)), [403, 'PolicyNotAuthorized', 'rule:delete_policy_bandwidth_limit_rule is disallowed by policy']);
    const listed = await req('GET', path('bandwidth_limit'), demo);
    assert.equal(listed.json.bandwidth_limit_rules.map((r: { direction: string }) => r.direction).sort(), ['egress', 'ingress']);
    const shown = (await req('GET', `qos/policies/${policy}`, demo)).json.policy;
    assert.equal(shown.rules.map((r: { type: string }) => r.type).sort(), ['bandwidth_limit', 'bandwidth_limit', 'dscp_marking', 'minimum_bandwidth', 'minimum_packet_rate']);
    assert.ok(shown.rules.every((r: { qos_policy_id: string }) => r.qos_policy_id === policy));

    // A rule is found under its own type only.
    assert.equal(errorOf(await req('GET', path('dscp_marking', bwId), admin)), [404, 'QosRuleNotFound', `QoS rule ${bwId} for policy ${policy} could not be found.`]);
    assert.is((await req('DELETE', path('bandwidth_limit', bwId), admin)).status, 204);
    assert.is((await req('GET', path('bandwidth_limit', bwId), admin)).status, 404);
    assert.is((await req('GET', `qos/policies/${policy}`, admin)).json.policy.rules.length, 4);
  } finally {
    await n.close();
  }
});

test('qos rule types: listed for all, details for admins', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const req = client(n);
    assert.equal((await req('GET', 'qos/rule-types', demo)).json.rule_types.map((t: { type: string }) => t.type).sort(), ['bandwidth_limit', 'dscp_marking', 'minimum_bandwidth', 'minimum_packet_rate']);
    const details = (await req('GET', 'qos/rule-types/bandwidth_limit', admin)).json.rule_type;
    assert.is(details.type, 'bandwidth_limit');
    assert.equal(details.drivers[0].supported_parameters.map((p: { parameter_name: string }) => p.parameter_name), ['max_kbps', 'max_burst_kbps', 'direction']);
    assert.equal(details.drivers[0].supported_parameters[0], { parameter_name: 'max_kbps', parameter_type: 'range', parameter_values: { start: 0, end: 2147483647 } });
    assert.equal(errorOf(await req('GET', 'qos/rule-types/bandwidth_limit', demo)), [403, 'NotAuthorized', 'Not authorized.']);
    assert.is((await req('GET', 'qos/rule-types/warp_speed', admin)).status, 404);
    const aliases = (await req('GET', 'extensions', demo)).json.extensions.map((e: { alias: string }) => e.alias);
    assert.ok(['qos', 'qos-default', 'qos-bw-limit-direction', 'qos-pps-minimum', 'qos-rule-type-details'].every((a) => aliases.includes(a)));
  } finally {
    await n.close();
  }
});

test('qos_policy_id on networks and ports: checked on set, the project default on new networks, a policy in use is not deleted', async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const req = client(n);
    const first = (await req('POST', 'networks', demo, { network: { name: 'before' } })).json.network;
    assert.is(first.qos_policy_id, null);
    const project = first.project_id as string;
    const hidden = (await req('POST', 'qos/policies', admin, { policy: { name: 'hidden' } })).json.policy.id as string;
    const mine = (await req('POST', 'qos/policies', admin, { policy: { name: 'mine', project_id: project, is_default: true } })).json.policy.id as string;

    // A network naming none gets the default; one naming a policy it cannot see is 404.
    const net = (await req('POST', 'networks', demo, { network: { name: 'net' } })).json.network;
    assert.is(net.qos_policy_id, mine);
    assert.equal(errorOf(await req('POST', 'networks', demo, { network: { name: 'n2', qos_policy_id: hidden } })), [404, 'QosPolicyNotFound', `QoS policy ${hidden} could not be found.`]);
    assert.equal(errorOf(await req('POST', 'networks', demo, { network: { name: 'n3', qos_policy_id: 'nope' } })), [400, 'HTTPBadRequest', "Invalid input for qos_policy_id. Reason: 'nope' is not a valid UUID."]);
    assert.equal(errorOf(await req('PUT', `networks/${first.id}`, demo, { network: { qos_policy_id: hidden } })).slice(0, 2), [404, 'QosPolicyNotFound']);
    assert.is((await req('GET', `networks/${first.id}`, demo)).json.network.qos_policy_id, null, 'unchanged by the refused update');
    assert.is((await req('PUT', `networks/${first.id}`, demo, { network: { qos_policy_id: mine } })).json.network.qos_policy_id, mine);

    // Ports: their own policy, and their network's shown beside it.
    const port = await req('POST', 'ports', demo, { port: { network_id: net.id } });
    assert.equal([port.status, port.json.port.qos_policy_id, port.json.port.qos_network_policy_id], [201, null, mine]);
    assert.equal(errorOf(await req('PUT', `ports/${port.json.port.id}`, demo, { port: { qos_policy_id: hidden } })).slice(0, 2), [404, 'QosPolicyNotFound']);
    // An admin puts the hidden one on the port: its owner may then not take it off.
    assert.is((await req('PUT', `ports/${port.json.port.id}`, admin, { port: { qos_policy_id: hidden } })).json.port.qos_policy_id, hidden);
    assert.equal(errorOf(await req('PUT', `ports/${port.json.port.id}`, demo, { port: { qos_policy_id: null } })), [403, 'PolicyRemoveAuthorizationError', `Failed to remove provided policy ${hidden} because you are not authorized.`]);

    // In use: 409, naming what uses it.
    assert.equal(errorOf(await req('DELETE', `qos/policies/${hidden}`, admin)), [409, 'QosPolicyInUse', `QoS Policy ${hidden} is used by port ${port.json.port.id}.`]);
    assert.is((await req('PUT', `ports/${port.json.port.id}`, admin, { port: { qos_policy_id: null } })).json.port.qos_policy_id, null);
    assert.is((await req('DELETE', `qos/policies/${hidden}`, admin)).status, 204);
    assert.equal(errorOf(await req('DELETE', `qos/policies/${mine}`, admin)).slice(0, 2), [409, 'QosPolicyInUse']);
    for (const id of [net.id, first.id]) await req('PUT', `networks/${id}`, demo, { network: { qos_policy_id: null } });
    assert.is((await req('DELETE', `qos/policies/${mine}`, admin)).status, 204);
    assert.is((await req('POST', 'networks', demo, { network: { name: 'after' } })).json.network.qos_policy_id, null, 'no default once it is gone');
  } finally {
    await n.close();
  }
});

test.run();
