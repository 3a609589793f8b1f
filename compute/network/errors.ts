import { SwiftError } from '../../common/errors.ts';

/**
 * Neutron's errors, by its exception names (neutron-lib `exceptions`, `neutron/ipam/
 * exceptions.py`) and messages. `fault` is the family Neutron's class derives from, which the
 * network API maps at its edge (BadRequest 400, Conflict and InUse 409, NotFound 404) into
 * `{"NeutronError": {"type": <type>, "message": <message>, "detail": ""}}` (NotAuthorized 403,
 * ServiceUnavailable 503, and 500 for one derived from NeutronException alone).
 */
export class NeutronError extends SwiftError {
  /** Neutron's exception class name (the body's `type`). */
  readonly type: string;
  readonly fault: 'BadRequest' | 'Conflict' | 'NotFound' | 'Forbidden' | 'TooLarge' | 'Unavailable' | 'Internal';

  constructor(type: string, fault: NeutronError['fault'], message: string) {
    super(`NEUTRON_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`, message);
    this.type = type;
    this.fault = fault;
  }
}

/** "Invalid input for operation: %(error_message)s." */
export class InvalidInput extends NeutronError {
  constructor(errorMessage: string) {
    super('InvalidInput', 'BadRequest', `Invalid input for operation: ${errorMessage}.`);
  }
}

/** An attribute its validator refused (the API layer's "Invalid input for %(attr)s. Reason: %(reason)s."). */
export class InvalidAttribute extends NeutronError {
  readonly attribute: string;

  constructor(attribute: string, reason: string) {
    super('HTTPBadRequest', 'BadRequest', `Invalid input for ${attribute}. Reason: ${reason}.`);
    this.attribute = attribute;
  }
}

export class InvalidAllocationPool extends NeutronError {
  constructor(pool: string) {
    super('InvalidAllocationPool', 'BadRequest', `The allocation pool ${pool} is not valid.`);
  }
}

export class OutOfBoundsAllocationPool extends NeutronError {
  constructor(pool: string, subnetCidr: string) {
    super('OutOfBoundsAllocationPool', 'BadRequest', `The allocation pool ${pool} spans beyond the subnet cidr ${subnetCidr}.`);
  }
}

export class OverlappingAllocationPools extends NeutronError {
  constructor(pool1: string, pool2: string, subnetCidr: string) {
    super('OverlappingAllocationPools', 'Conflict', `Found overlapping allocation pools: ${pool1} ${pool2} for subnet ${subnetCidr}.`);
  }
}

export class GatewayConflictWithAllocationPools extends NeutronError {
  constructor(ipAddress: string, pool: string) {
    super('GatewayConflictWithAllocationPools', 'Conflict', `Gateway ip ${ipAddress} conflicts with allocation pool ${pool}.`);
  }
}

/** 409 when a subnet has no address left. */
export class IpAddressGenerationFailure extends NeutronError {
  constructor(subnetId: string) {
    super('IpAddressGenerationFailure', 'Conflict', `No more IP addresses available for subnet ${subnetId}.`);
  }
}

/** 409 for a fixed IP another port holds. */
export class IpAddressAlreadyAllocated extends NeutronError {
  constructor(ip: string, subnetId: string) {
    super('IpAddressAlreadyAllocated', 'Conflict', `IP address ${ip} already allocated in subnet ${subnetId}`);
  }
}

export class InvalidIpForSubnet extends NeutronError {
  constructor(ip: string, subnetId: string) {
    super('InvalidIpForSubnet', 'BadRequest', `IP address ${ip} does not belong to subnet ${subnetId}`);
  }
}

export class AllocationOnAutoAddressSubnet extends NeutronError {
  constructor(ip: string, subnetId: string) {
    super('AllocationOnAutoAddressSubnet', 'BadRequest', `IPv6 address ${ip} cannot be directly assigned to a port on subnet ${subnetId} as the subnet is configured for automatic addresses`);
  }
}

export class MacAddressGenerationFailure extends NeutronError {
  constructor(networkId: string) {
    super('MacAddressGenerationFailure', 'Conflict', `Unable to generate unique mac on network ${networkId}.`);
  }
}

export class MacAddressInUse extends NeutronError {
  constructor(networkId: string, mac: string) {
    super('MacAddressInUse', 'Conflict', `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`);
  }
}

/** The API layer's webob errors: `HTTPBadRequest`, `HTTPNotFound` (an unknown path, or a resource policy hides). */
export class HttpBadRequest extends NeutronError {
  constructor(message: string) {
    super('HTTPBadRequest', 'BadRequest', message);
  }
}

export class HttpNotFound extends NeutronError {
  constructor(message = 'The resource could not be found.') {
    super('HTTPNotFound', 'NotFound', message);
  }
}

/** oslo.policy's refusal, naming the rule checked: "(rule:create_network and rule:create_network:shared) is disallowed by policy". */
export class PolicyNotAuthorized extends NeutronError {
  constructor(rule: string) {
    super('PolicyNotAuthorized', 'Forbidden', `${rule} is disallowed by policy`);
  }
}

/** "Bad %(resource)s request: %(msg)s." */
export class BadRequest extends NeutronError {
  constructor(resource: string, msg: string) {
    super('BadRequest', 'BadRequest', `Bad ${resource} request: ${msg}.`);
  }
}

export class NetworkNotFound extends NeutronError {
  constructor(id: string) {
    super('NetworkNotFound', 'NotFound', `Network ${id} could not be found.`);
  }
}

export class SubnetNotFound extends NeutronError {
  constructor(id: string) {
    super('SubnetNotFound', 'NotFound', `Subnet ${id} could not be found.`);
  }
}

export class PortNotFound extends NeutronError {
  constructor(id: string) {
    super('PortNotFound', 'NotFound', `Port ${id} could not be found.`);
  }
}

export class RouterNotFound extends NeutronError {
  constructor(id: string) {
    super('RouterNotFound', 'NotFound', `Router ${id} could not be found`);
  }
}

export class FloatingIPNotFound extends NeutronError {
  constructor(id: string) {
    super('FloatingIPNotFound', 'NotFound', `Floating IP ${id} could not be found`);
  }
}

export class SecurityGroupNotFound extends NeutronError {
  constructor(id: string) {
    super('SecurityGroupNotFound', 'NotFound', `Security group ${id} does not exist`);
  }
}

export class SecurityGroupRuleNotFound extends NeutronError {
  constructor(id: string) {
    super('SecurityGroupRuleNotFound', 'NotFound', `Security group rule ${id} does not exist`);
  }
}

export class NetworkInUse extends NeutronError {
  constructor(id: string) {
    super('NetworkInUse', 'Conflict', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`);
  }
}

export class SubnetInUse extends NeutronError {
  constructor(id: string, reason = 'One or more ports have an IP allocation from this subnet') {
    super('SubnetInUse', 'Conflict', `Unable to complete operation on subnet ${id}: ${reason}.`);
  }
}

export class RouterInUse extends NeutronError {
  constructor(id: string, reason = 'still has ports') {
    super('RouterInUse', 'Conflict', `Router ${id} ${reason}`);
  }
}

export class SecurityGroupInUse extends NeutronError {
  constructor(id: string) {
    super('SecurityGroupInUse', 'Conflict', `Security Group ${id} in use.`);
  }
}

export class SecurityGroupCannotRemoveDefault extends NeutronError {
  constructor() {
    super('SecurityGroupCannotRemoveDefault', 'Conflict', 'Insufficient rights for removing default security group.');
  }
}

export class SecurityGroupCannotUpdateDefault extends NeutronError {
  constructor() {
    super('SecurityGroupCannotUpdateDefault', 'Conflict', 'Updating default security group not allowed.');
  }
}

export class SecurityGroupRuleExists extends NeutronError {
  constructor(ruleId: string) {
    super('SecurityGroupRuleExists', 'Conflict', `Security group rule already exists. Rule id is ${ruleId}.`);
  }
}

/** The security group rule checks (neutron/extensions/securitygroup.py), all InvalidInput (400) with messages of their own. */
export class SecurityGroupRuleInvalid extends NeutronError {
  constructor(type: string, message: string) {
    super(type, 'BadRequest', message);
  }
}

/** "Quota exceeded for resources: ['port']." */
export class OverQuota extends NeutronError {
  constructor(resources: readonly string[]) {
    super('OverQuota', 'Conflict', `Quota exceeded for resources: [${resources.map((r) => `'${r}'`).join(', ')}].`);
  }
}

export class RouterInterfaceNotFoundForSubnet extends NeutronError {
  constructor(routerId: string, subnetId: string) {
    super('RouterInterfaceNotFoundForSubnet', 'NotFound', `Router ${routerId} has no interface on subnet ${subnetId}`);
  }
}

export class RouterInterfaceNotFound extends NeutronError {
  constructor(routerId: string, portId: string) {
    super('RouterInterfaceNotFound', 'NotFound', `Router ${routerId} does not have an interface with id ${portId}`);
  }
}

export class ExternalGatewayForFloatingIPNotFound extends NeutronError {
  constructor(externalNetworkId: string, subnetId: string, portId: string) {
    super('ExternalGatewayForFloatingIPNotFound', 'NotFound', `External network ${externalNetworkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${portId} with a Floating IP.`);
  }
}

export class FloatingIPPortAlreadyAssociated extends NeutronError {
  constructor(floatingIp: string, fipId: string, portId: string, fixedIp: string, netId: string) {
    super('FloatingIPPortAlreadyAssociated', 'Conflict', `Cannot associate floating IP ${floatingIp} (${fipId}) with port ${portId} using fixed IP ${fixedIp}, as that fixed IP already has a floating IP on external network ${netId}.`);
  }
}

/** 503 when the cluster holding the records does not answer. */
export class ServiceUnavailable extends NeutronError {
  constructor() {
    super('ServiceUnavailable', 'Unavailable', 'The service is unavailable.');
  }
}

/** 409 when no subnet of the network had an address left for a port that asked for none in particular. */
export class NetworkIpAddressGenerationFailure extends NeutronError {
  constructor(networkId: string) {
    super('IpAddressGenerationFailure', 'Conflict', `No more IP addresses available on network ${networkId}.`);
  }
}

export class AddressScopeNotFound extends NeutronError {
  constructor(id: string) {
    super('AddressScopeNotFound', 'NotFound', `Address scope ${id} could not be found.`);
  }
}

export class AddressScopeInUse extends NeutronError {
  constructor(id: string) {
    super('AddressScopeInUse', 'Conflict', `Unable to complete operation on address scope ${id}. There are one or more subnet pools in use on the address scope.`);
  }
}

export class AddressScopeUpdateError extends NeutronError {
  constructor(id: string, reason: string) {
    super('AddressScopeUpdateError', 'BadRequest', `Unable to update address scope ${id} : ${reason}.`);
  }
}

/** 409 when a pool's prefixes would overlap another pool's in the same address scope. */
export class AddressScopePrefixConflict extends NeutronError {
  constructor() {
    super('AddressScopePrefixConflict', 'Conflict', 'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.');
  }
}

export class IllegalSubnetPoolAssociationToAddressScope extends NeutronError {
  constructor(poolId: string, scopeId: string) {
    super('IllegalSubnetPoolAssociationToAddressScope', 'BadRequest', `Illegal subnetpool association: subnetpool ${poolId} cannot be associated with address scope ${scopeId}.`);
  }
}

export class IllegalSubnetPoolIpVersionAssociationToAddressScope extends NeutronError {
  constructor(poolId: string, scopeId: string, ipVersion: number) {
    super('IllegalSubnetPoolIpVersionAssociationToAddressScope', 'BadRequest', `Illegal subnetpool association: subnetpool ${poolId} cannot associate with address scope ${scopeId} because subnetpool ip_version is not ${ipVersion}.`);
  }
}

export class IllegalSubnetPoolUpdate extends NeutronError {
  constructor(reason: string) {
    super('IllegalSubnetPoolUpdate', 'BadRequest', `Illegal subnetpool update : ${reason}.`);
  }
}

export class SubnetPoolNotFound extends NeutronError {
  constructor(id: string) {
    super('SubnetPoolNotFound', 'NotFound', `Subnet pool ${id} could not be found.`);
  }
}

export class EmptySubnetPoolPrefixList extends NeutronError {
  constructor() {
    super('EmptySubnetPoolPrefixList', 'BadRequest', 'Empty subnet pool prefix list.');
  }
}

export class PrefixVersionMismatch extends NeutronError {
  constructor() {
    super('PrefixVersionMismatch', 'BadRequest', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  }
}

export class IllegalSubnetPoolPrefixBounds extends NeutronError {
  constructor(prefixType: string, prefixlen: number, baseType: string, basePrefixlen: number) {
    super('IllegalSubnetPoolPrefixBounds', 'BadRequest', `Illegal prefix bounds: ${prefixType}=${prefixlen}, ${baseType}=${basePrefixlen}.`);
  }
}

export class IllegalSubnetPoolPrefixUpdate extends NeutronError {
  constructor(msg: string) {
    super('IllegalSubnetPoolPrefixUpdate', 'BadRequest', `Illegal update to prefixes: ${msg}.`);
  }
}

/** Neutron derives it from NeutronException alone, so its API answers 500 with this body. */
export class SubnetAllocationError extends NeutronError {
  constructor(reason: string) {
    super('SubnetAllocationError', 'Internal', `Failed to allocate subnet: ${reason}.`);
  }
}

export class MinPrefixSubnetAllocationError extends NeutronError {
  constructor(prefixlen: number, min: number) {
    super('MinPrefixSubnetAllocationError', 'BadRequest', `Unable to allocate subnet with prefix length ${prefixlen}, minimum allowed prefix is ${min}.`);
  }
}

export class MaxPrefixSubnetAllocationError extends NeutronError {
  constructor(prefixlen: number, max: number) {
    super('MaxPrefixSubnetAllocationError', 'BadRequest', `Unable to allocate subnet with prefix length ${prefixlen}, maximum allowed prefix is ${max}.`);
  }
}

export class SubnetPoolDeleteError extends NeutronError {
  constructor(reason: string) {
    super('SubnetPoolDeleteError', 'BadRequest', `Unable to delete subnet pool: ${reason}.`);
  }
}

/** An OverQuota (409): the project's allocations from the pool would pass its `default_quota`. */
export class SubnetPoolQuotaExceeded extends NeutronError {
  constructor() {
    super('SubnetPoolQuotaExceeded', 'Conflict', 'Per-project subnet pool prefix quota exceeded.');
  }
}

export class NetworkSubnetPoolAffinityError extends NeutronError {
  constructor() {
    super('NetworkSubnetPoolAffinityError', 'BadRequest', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
  }
}

export class QosPolicyNotFound extends NeutronError {
  constructor(id: string) {
    super('QosPolicyNotFound', 'NotFound', `QoS policy ${id} could not be found.`);
  }
}

export class QosRuleNotFound extends NeutronError {
  constructor(policyId: string, ruleId: string) {
    super('QosRuleNotFound', 'NotFound', `QoS rule ${ruleId} for policy ${policyId} could not be found.`);
  }
}

/** `objectType` as Neutron's binding models name it: `port`, `network`. */
export class QosPolicyInUse extends NeutronError {
  constructor(policyId: string, objectType: string, objectId: string) {
    super('QosPolicyInUse', 'Conflict', `QoS Policy ${policyId} is used by ${objectType} ${objectId}.`);
  }
}

export class QoSPolicyDefaultAlreadyExists extends NeutronError {
  constructor(projectId: string) {
    super('QoSPolicyDefaultAlreadyExists', 'Conflict', `A default QoS policy exists for project ${projectId}.`);
  }
}

export class QoSRulesConflict extends NeutronError {
  constructor(newRuleType: string, ruleId: string, policyId: string) {
    super('QoSRulesConflict', 'Conflict', `Rule ${newRuleType} conflicts with rule ${ruleId} which already exists in QoS Policy ${policyId}.`);
  }
}

export class QoSRuleParameterConflict extends NeutronError {
  constructor(ruleValue: string | number, policyId: string, existingRule: string, existingValue: string | number) {
    super('QoSRuleParameterConflict', 'Conflict', `Unable to add the rule with value ${ruleValue} to the policy ${policyId} as the existing rule of type ${existingRule} has value ${existingValue}.`);
  }
}

/** A network's or port's policy the caller may no longer see cannot be swapped out by it. */
export class PolicyRemoveAuthorizationError extends NeutronError {
  constructor(policyId: string) {
    super('PolicyRemoveAuthorizationError', 'Forbidden', `Failed to remove provided policy ${policyId} because you are not authorized.`);
  }
}

/** neutron-lib's generic NotAuthorized (403). */
export class NotAuthorized extends NeutronError {
  constructor() {
    super('NotAuthorized', 'Forbidden', 'Not authorized.');
  }
}

/** `details`: `network` for networks, `project_id=<target>` for other objects (Neutron's two callers). */
export class RbacPolicyInUse extends NeutronError {
  constructor(objectId: string, details: string) {
    super('RbacPolicyInUse', 'Conflict', `RBAC policy on object ${objectId} cannot be removed because other objects depend on it.\nDetails: ${details}`);
  }
}
