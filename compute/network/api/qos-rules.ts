import { parseBody } from '../attributes.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { QosPolicyNotFound, QosRuleNotFound } from '../errors.ts';
import { requireAdmin } from '../policy.ts';
import { visibleQosPolicy } from '../qos-policy-access.ts';
import { checkRuleConflicts, QOS_RULE_TYPES, ruleAttributes, ruleView } from '../qos-rules.ts';
import type { QosPolicyRecord, QosRuleRecord, QosRuleType } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRequest, type NetworkRoute } from '../request.ts';
import { listResponse, newId, showResponse } from './collection.ts';

/**
 * `/v2.0/qos/policies/{policy_id}/<type>_rules` for each rule type (`openstack network qos rule
 * create/list/show/set/delete`): anyone who sees the policy reads its rules, admins change them.
 * Every change is one compare-and-swap of the policy, which checks Neutron's conflicts (one rule
 * of a type per direction, DSCP once, a limit not under a minimum) against the rules it holds.
 */
export function qosRuleRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  return (Object.keys(QOS_RULE_TYPES) as QosRuleType[]).flatMap((type) => {
    const spec = QOS_RULE_TYPES[type];
    const attributes = ruleAttributes(type);
    const base = `/v2.0/qos/policies/{policy_id}/${spec.collection}`;
    const policyOf = (req: NetworkRequest) => visibleQosPolicy(store, ctxOf(req), req.params.policy_id as string);
    const ruleOf = (policy: QosPolicyRecord, id: string): QosRuleRecord => {
      const rule = policy.rules.find((r) => r.id === id && r.type === type);
      if (!rule) throw new QosRuleNotFound(policy.id, id);
      return rule;
    };
    /** Rewrites the policy's rules by compare-and-swap (a rule change is a change of the policy: its revision goes up). */
    const change = async (policyId: string, edit: (policy: QosPolicyRecord) => QosRuleRecord[]): Promise<QosPolicyRecord> => {
      const updated = await store.update<QosPolicyRecord>('qos-policies', policyId, (p) => ({ ...p, rules: edit(p), updated_at: timestamp(deps.clock), revision_number: p.revision_number + 1 }));
      if (!updated) throw new QosPolicyNotFound(policyId);
      return updated;
    };
    const routes: NetworkRoute[] = [
      {
        method: 'GET',
        path: base,
        auth: 'token',
        handler: async (req) => listResponse(req, spec.collection, (await policyOf(req)).rules.filter((r) => r.type === type).map(ruleView), Object.keys(spec.params)),
      },
      {
        method: 'POST',
        path: base,
        auth: 'token',
        handler: async (req) => {
          const ctx = ctxOf(req);
          const fields = parseBody(req.body, spec.resource, attributes, 'create');
          requireAdmin(ctx, `rule:create_policy_${spec.resource}`);
          const policy = await policyOf(req);
          const given = { ...spec.defaults, ...fields };
          const rule: QosRuleRecord = { id: newId(), type, params: Object.fromEntries(Object.keys(spec.params).map((k) => [k, given[k] as string | number])) };
          await change(policy.id, (p) => {
            checkRuleConflicts(p, rule, given);
            return [...p.rules, rule];
          });
          return showResponse(req, spec.resource, ruleView(rule), 201);
        },
      },
      {
        method: 'GET',
        path: `${base}/{id}`,
        auth: 'token',
        handler: async (req) => showResponse(req, spec.resource, ruleView(ruleOf(await policyOf(req), req.params.id as string))),
      },
      {
        method: 'PUT',
        path: `${base}/{id}`,
        auth: 'token',
        handler: async (req) => {
          const ctx = ctxOf(req);
          const fields = parseBody(req.body, spec.resource, attributes, 'update');
          requireAdmin(ctx, `rule:update_policy_${spec.resource}`);
          const policy = await policyOf(req);
          const id = req.params.id as string;
          ruleOf(policy, id);
          let result: QosRuleRecord | undefined;
          await change(policy.id, (p) => {
            const current = ruleOf(p, id);
            result = { ...current, params: { ...current.params, ...(fields as Record<string, string | number>) } };
            checkRuleConflicts(p, result, fields);
            return p.rules.map((r) => (r.id === id ? (result as QosRuleRecord) : r));
          });
          return showResponse(req, spec.resource, ruleView(result as QosRuleRecord));
        },
      },
      {
        method: 'DELETE',
        path: `${base}/{id}`,
        auth: 'token',
        handler: async (req) => {
          const ctx = ctxOf(req);
          requireAdmin(ctx, `rule:delete_policy_${spec.resource}`);
          const policy = await policyOf(req);
          const id = req.params.id as string;
          ruleOf(policy, id);
          await change(policy.id, (p) => {
            ruleOf(p, id);
            return p.rules.filter((r) => r.id !== id);
          });
          return NO_CONTENT;
        },
      },
    ];
    return routes;
  });
}
