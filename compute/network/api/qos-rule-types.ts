import { HttpNotFound, NotAuthorized } from '../errors.ts';
import { QOS_RULE_TYPES, ruleTypeDrivers } from '../qos-rules.ts';
import type { QosRuleType } from '../records.ts';
import { ctxOf, type NetworkRoute } from '../request.ts';
import { listResponse, showResponse } from './collection.ts';

/**
 * `/v2.0/qos/rule-types` (`openstack network qos rule type list/show`): the rule types this
 * service takes, and for each (admins only, as Neutron's plugin refuses others) the one driver
 * here, `swiftlet`, with the parameters and values it accepts. The rules are kept and shown;
 * nothing on a host enforces them yet (docs/decisions.md).
 */
export function qosRuleTypeRoutes(): NetworkRoute[] {
  const types = Object.keys(QOS_RULE_TYPES) as QosRuleType[];
  return [
    {
      method: 'GET',
      path: '/v2.0/qos/rule-types',
      auth: 'token',
      handler: async (req) => listResponse(req, 'rule_types', types.map((type) => ({ type })), ['type']),
    },
    {
      method: 'GET',
      path: '/v2.0/qos/rule-types/{type}',
      auth: 'token',
      handler: async (req) => {
        if (!ctxOf(req).isAdmin) throw new NotAuthorized();
        const type = req.params.type as string;
        // Neutron fails on a type it does not know (oslo's enum field): a 404 is the answer here.
        if (!(types as string[]).includes(type)) throw new HttpNotFound();
        return showResponse(req, 'rule_type', { type, drivers: ruleTypeDrivers(type as QosRuleType) });
      },
    },
  ];
}
