import { SwiftError } from '../../../common/errors.ts';
import type { PowerState } from './types.ts';

/**
 * Errors of the hypervisor driver. The compute API maps them at its edge as Nova does:
 * `DomainNotFound` is Nova's InstanceNotFound (404), `DomainStateError` its
 * InstanceInvalidState (409), `ConsoleNotAvailable` (409), the rest a fault on the server.
 */

/** No domain by that name. */
export class DomainNotFound extends SwiftError {
  readonly domain: string;

  constructor(domain: string, options?: { cause?: unknown }) {
    super('DOMAIN_NOT_FOUND', `domain ${JSON.stringify(domain)} not found`, options);
    this.domain = domain;
  }
}

/** The operation is not valid in the domain's power state; nothing was changed. */
export class DomainStateError extends SwiftError {
  readonly domain: string;
  readonly operation: string;
  readonly powerState: PowerState;

  constructor(domain: string, operation: string, powerState: PowerState) {
    super('DOMAIN_STATE_INVALID', `cannot ${operation} domain ${JSON.stringify(domain)} while it is ${powerState}`);
    this.domain = domain;
    this.operation = operation;
    this.powerState = powerState;
  }
}

/** Another domain (another UUID) already has the name. */
export class DomainExists extends SwiftError {
  readonly domain: string;

  constructor(domain: string, uuid: string) {
    super('DOMAIN_EXISTS', `domain ${JSON.stringify(domain)} already exists with uuid ${uuid}`);
    this.domain = domain;
  }
}

/** Domain XML that cannot be parsed or that the hypervisor refuses (`reason` says why). */
export class InvalidDomainXml extends SwiftError {
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super('DOMAIN_XML_INVALID', `invalid domain XML: ${reason}`, options);
    this.reason = reason;
  }
}

/** The domain has no console the driver can read (Nova's ConsoleNotAvailable). */
export class ConsoleNotAvailable extends SwiftError {
  constructor(domain: string) {
    super('CONSOLE_NOT_AVAILABLE', `domain ${JSON.stringify(domain)} has no file console`);
  }
}

/** The driver (or this host) cannot do the operation (see its `supports`). */
export class NotSupportedByDriver extends SwiftError {
  readonly operation: string;

  constructor(operation: string, why: string) {
    super('HYPERVISOR_NOT_SUPPORTED', `${operation} is not supported: ${why}`);
    this.operation = operation;
  }
}

/** A snapshot's image could not be written (the guest was returned to its state first). */
export class SnapshotFailed extends SwiftError {
  readonly domain: string;

  constructor(domain: string, problem: string, options?: { cause?: unknown }) {
    super('SNAPSHOT_FAILED', `snapshot of domain ${JSON.stringify(domain)} failed: ${problem}`, options);
    this.domain = domain;
  }
}

/**
 * The hypervisor failed in a way the driver does not name (libvirt's message kept): the
 * binding gives libvirt's message only (its code is always -1), so only the cases the
 * driver checks itself become the errors above.
 */
export class HypervisorError extends SwiftError {
  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super('HYPERVISOR_FAILED', `${operation}: ${message}`, options);
  }
}

/** The driver cannot reach its hypervisor (binding missing, URI refused). */
export class HypervisorUnavailable extends SwiftError {
  constructor(uri: string, problem: string, options?: { cause?: unknown }) {
    super('HYPERVISOR_UNAVAILABLE', `hypervisor ${uri} is unavailable: ${problem}`, options);
  }
}

/** A disk is to be attached at a target another disk of the domain holds (Nova's DevicePathInUse). */
export class DiskTargetInUse extends SwiftError {
  readonly domain: string;
  readonly targetDev: string;

  constructor(domain: string, targetDev: string) {
    super('DISK_TARGET_IN_USE', `domain ${JSON.stringify(domain)} already has another disk at ${targetDev}`);
    this.domain = domain;
    this.targetDev = targetDev;
  }
}

/**
 * A disk asked out of a running guest is still in it after every attempt (Nova's
 * DeviceDetachFailed: the guest did not release the device); the definition no longer has it.
 */
export class DeviceDetachFailed extends SwiftError {
  readonly domain: string;
  readonly targetDev: string;

  constructor(domain: string, targetDev: string, attempts: number) {
    super('DEVICE_DETACH_FAILED', `device ${targetDev} is still attached to the running domain ${JSON.stringify(domain)} after ${attempts} detach attempts`);
    this.domain = domain;
    this.targetDev = targetDev;
  }
}
