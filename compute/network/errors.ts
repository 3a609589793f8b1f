import { SwiftError } from '../../common/errors.ts';

/**
 * Neutron's errors, by its exception names (neutron-lib `exceptions`, `neutron/ipam/
 * exceptions.py`) and messages. `fault` is the family Neutron's class derives from, which the
 * network API maps at its edge (BadRequest 400, Conflict and InUse 409, NotFound 404) into
 * `{"NeutronError": {"type": <type>, "message": <message>, "detail": ""}}`.
 */
export class NeutronError extends SwiftError {
  /** Neutron's exception class name (the body's `type`). */
  readonly type: string;
  readonly fault: 'BadRequest' | 'Conflict' | 'NotFound';

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
