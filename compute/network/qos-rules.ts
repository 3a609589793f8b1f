import { type AttributeMap, type AttributeSpec, type Fields, toInt } from './attributes.ts';
import { QoSRuleParameterConflict, QoSRulesConflict } from './errors.ts';
import type { QosPolicyRecord, QosRuleRecord, QosRuleType } from './records.ts';

/** neutron-lib's `DB_INTEGER_MAX_VALUE`: the top of every rate's range. */
const INTEGER_MAX = 2147483647;
const VALID_DSCP_MARKS = [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56];
const VALID_DIRECTIONS = ['ingress', 'egress'];
const VALID_DIRECTIONS_AND_ANY = ['any', 'ingress', 'egress'];

/** A rule parameter's check, kept as data: it validates the API and is what `rule-types/{type}` shows as supported. */
type Param = { readonly kind: 'range'; readonly start: number; readonly end: number } | { readonly kind: 'values'; readonly values: readonly (string | number)[] };

/** `type:range` and `type:values`, with neutron-lib's messages. */
function check(param: Param): (v: unknown) => string | undefined {
  if (param.kind === 'range') {
    return (v) => {
      if ((v as number) < param.start) return `'${v}' is too small - must be at least '${param.start}'`;
      if ((v as number) > param.end) return `'${v}' is too large - must be no larger than '${param.end}'`;
      return undefined;
    };
  }
  return (v) => (param.values.includes(v as string | number) ? undefined : `${String(v)} is not in valid_values`);
}

interface RuleTypeSpec {
  /** The rule's body key and path segment: `bandwidth_limit_rule`, `bandwidth_limit_rules`. */
  readonly resource: string;
  readonly collection: string;
  readonly params: Readonly<Record<string, Param>>;
  /** Parameters a create may leave out, with their defaults (the others are required). */
  readonly defaults: Readonly<Record<string, string | number>>;
  /** Integer parameters (`convert_to_int`). */
  readonly ints: readonly string[];
  /** Whether two rules of the type conflict only in the same direction (Neutron's `duplicates_compare_fields`). */
  readonly directional: boolean;
}

const RATE: Param = { kind: 'range', start: 0, end: INTEGER_MAX };

/**
 * The rule types this service has, as neutron-lib defines them with the qos-bw-limit-direction,
 * qos-bw-minimum-ingress and qos-pps-minimum extensions: every direction Neutron's API accepts.
 */
export const QOS_RULE_TYPES: Readonly<Record<QosRuleType, RuleTypeSpec>> = {
  bandwidth_limit: {
    resource: 'bandwidth_limit_rule',
    collection: 'bandwidth_limit_rules',
    params: { max_kbps: RATE, max_burst_kbps: RATE, direction: { kind: 'values', values: VALID_DIRECTIONS } },
    defaults: { max_burst_kbps: 0, direction: 'egress' },
    ints: ['max_kbps', 'max_burst_kbps'],
    directional: true,
  },
  dscp_marking: {
    resource: 'dscp_marking_rule',
    collection: 'dscp_marking_rules',
    params: { dscp_mark: { kind: 'values', values: VALID_DSCP_MARKS } },
    defaults: {},
    ints: ['dscp_mark'],
    directional: false,
  },
  minimum_bandwidth: {
    resource: 'minimum_bandwidth_rule',
    collection: 'minimum_bandwidth_rules',
    params: { min_kbps: RATE, direction: { kind: 'values', values: VALID_DIRECTIONS } },
    defaults: { direction: 'egress' },
    ints: ['min_kbps'],
    directional: true,
  },
  minimum_packet_rate: {
    resource: 'minimum_packet_rate_rule',
    collection: 'minimum_packet_rate_rules',
    params: { min_kpps: RATE, direction: { kind: 'values', values: VALID_DIRECTIONS_AND_ANY } },
    defaults: { direction: 'egress' },
    ints: ['min_kpps'],
    directional: true,
  },
};

/** The rule type's attribute map for `parseBody`. */
export function ruleAttributes(type: QosRuleType): AttributeMap {
  const spec = QOS_RULE_TYPES[type];
  return Object.fromEntries(
    Object.entries(spec.params).map(([name, param]): [string, AttributeSpec] => [name, { post: true, put: true, required: !(name in spec.defaults), ...(spec.ints.includes(name) ? { convert: toInt } : {}), validate: check(param) }]),
  );
}

/** `GET /v2.0/qos/rule-types/{type}`'s drivers: this service's one, with every parameter it takes. */
export function ruleTypeDrivers(type: QosRuleType): { name: string; supported_parameters: unknown[] }[] {
  const parameters = Object.entries(QOS_RULE_TYPES[type].params).map(([name, p]) => ({
    parameter_name: name,
    parameter_type: p.kind,
    parameter_values: p.kind === 'range' ? { start: p.start, end: p.end } : p.values,
  }));
  return [{ name: 'swiftlet', supported_parameters: parameters }];
}

/** A rule as its own resource shows it (`{id, <params>}`). */
export function ruleView(rule: QosRuleRecord): Record<string, unknown> {
  return { id: rule.id, ...rule.params };
}

/** A rule inside its policy's `rules`: with its type and policy. */
export function inlineRuleView(policyId: string, rule: QosRuleRecord): Record<string, unknown> {
  return { ...ruleView(rule), qos_policy_id: policyId, type: rule.type };
}

/**
 * Neutron's qos_policy_validator checks, in its order, of `rule` (the new or updated rule) against
 * the policy's other rules; `given` is what the request set (an update's direction, if it names
 * none, is compared with every direction, as Neutron does).
 * @throws {QoSRuleParameterConflict} a bandwidth limit below a minimum (or the reverse) in the
 *   same direction, or minimum packet rate rules mixing `any` with a direction
 * @throws {QoSRulesConflict} a second rule of the type (in the same direction)
 */
export function checkRuleConflicts(policy: QosPolicyRecord, rule: QosRuleRecord, given: Fields): void {
  const direction = given.direction as string | undefined;
  for (const other of policy.rules) {
    if (other.type === 'dscp_marking') continue;
    if (direction !== undefined && other.params.direction !== direction) continue;
    if (other.type === 'minimum_bandwidth' && given.max_kbps !== undefined && Number(other.params.min_kbps) > Number(given.max_kbps)) {
      throw new QoSRuleParameterConflict(given.max_kbps as number, policy.id, other.type, other.params.min_kbps as number);
    }
    if (other.type === 'bandwidth_limit' && given.min_kbps !== undefined && Number(other.params.max_kbps) < Number(given.min_kbps)) {
      throw new QoSRuleParameterConflict(given.min_kbps as number, policy.id, other.type, other.params.max_kbps as number);
    }
  }
  if (rule.type === 'minimum_packet_rate') {
    const mine = rule.params.direction as string;
    for (const other of policy.rules) {
      if (other.type !== 'minimum_packet_rate' || other.id === rule.id) continue;
      const theirs = other.params.direction as string;
      if ((mine === 'any' && theirs !== 'any') || (mine !== 'any' && theirs === 'any')) throw new QoSRuleParameterConflict(mine, policy.id, other.type, theirs);
    }
  }
  const directional = QOS_RULE_TYPES[rule.type].directional;
  const twin = policy.rules.find((other) => other.id !== rule.id && other.type === rule.type && (!directional || other.params.direction === rule.params.direction));
  if (twin) throw new QoSRulesConflict(rule.type, twin.id, policy.id);
}
