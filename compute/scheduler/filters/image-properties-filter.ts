import type { HostState } from '../host-state.ts';
import type { HostFilter } from './host-filter.ts';

// Nova's canonical names (nova/objects/fields.py Architecture/HVType/VMMode.canonicalize).
function canonicalArch(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const n = name.toLowerCase();
  if (['i386', 'i486', 'i586', 'x86_32', 'x86_32p'].includes(n)) return 'i686';
  return n === 'amd64' ? 'x86_64' : n;
}

function canonicalHvType(name: string | undefined): string | undefined {
  const n = name?.toLowerCase();
  return n === 'xapi' ? 'xen' : n;
}

function canonicalVmMode(mode: string | undefined): string | undefined {
  const m = mode?.toLowerCase();
  if (m === 'pv') return 'xen';
  return m === 'hv' || m === 'baremetal' ? 'hvm' : m;
}

/** Nova's `convert_version_to_str`: 7002000 is 7.2.0. */
function versionParts(encoded: number): number[] {
  return [Math.floor(encoded / 1_000_000), Math.floor(encoded / 1000) % 1000, encoded % 1000];
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const OPERATORS: Readonly<Record<string, (c: number) => boolean>> = {
  '>=': (c) => c >= 0, '<=': (c) => c <= 0, '>': (c) => c > 0, '<': (c) => c < 0, '==': (c) => c === 0, '=': (c) => c === 0, '!=': (c) => c !== 0,
};

/** Whether `version` satisfies oslo's VersionPredicate text, e.g. `>=6.0, <8`. An unreadable predicate is not satisfied. */
function satisfies(version: number, predicate: string): boolean {
  const have = versionParts(version);
  return predicate.split(',').every((term) => {
    const m = /^\s*(>=|<=|==|!=|>|<|=)\s*(\d+(?:\.\d+)*)\s*$/.exec(term);
    const test = m?.[1] === undefined ? undefined : OPERATORS[m[1]];
    return test !== undefined && m?.[2] !== undefined && test(compareVersions(have, m[2].split('.').map(Number)));
  });
}

function supported(host: HostState, props: Readonly<Record<string, string>>): boolean {
  const wanted = [canonicalArch(props['hw_architecture']), canonicalHvType(props['img_hv_type']), canonicalVmMode(props['hw_vm_mode'])];
  if (wanted.every((w) => w === undefined)) return true;
  const required = props['img_hv_requested_version'];
  return host.supportedInstances.some(
    (triple) =>
      wanted.every((w) => w === undefined || triple.includes(w)) &&
      (required === undefined || host.hypervisorVersion === undefined || satisfies(host.hypervisorVersion, required)),
  );
}

/**
 * Nova's ImagePropertiesFilter: an image that names an architecture (`hw_architecture`), a
 * hypervisor type (`img_hv_type`) or a VM mode (`hw_vm_mode`) runs only on hosts whose
 * supported instances include them, and `img_hv_requested_version` must hold for the host's
 * hypervisor version where both are known. An image naming none of them runs anywhere.
 */
export const ImagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  hostPasses: (host, context) => supported(host, context.spec.imageProperties),
};
