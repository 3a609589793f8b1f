import { DOMParser, type Element } from '@xmldom/xmldom';
import { InvalidDomainXml } from './errors.ts';

/**
 * What the drivers read back from a domain's XML: its identity and size (the memory twin
 * keeps no other record), its root disk (for snapshots) and its console log (for console
 * output, where Nova's `get_console_output` looks: a file console's source path).
 */
export interface DomainDescription {
  readonly type: string;
  readonly name: string;
  /** Absent when the XML has none (the hypervisor then makes one up). */
  readonly uuid: string | undefined;
  readonly memoryKiB: number;
  readonly vcpus: number;
  readonly disks: readonly { readonly path: string; readonly format: string; readonly device: string }[];
  readonly consoleLogPath: string | undefined;
}

// libvirt's memory units (docs/formatdomain: "Memory Allocation"); KiB when none is given.
const UNITS: Readonly<Record<string, number>> = {
  b: 1, bytes: 1, KB: 1e3, k: 1024, KiB: 1024, MB: 1e6, M: 1024 ** 2, MiB: 1024 ** 2,
  GB: 1e9, G: 1024 ** 3, GiB: 1024 ** 3, TB: 1e12, T: 1024 ** 4, TiB: 1024 ** 4,
};

function children(el: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === n.ELEMENT_NODE && (n as Element).tagName === name) out.push(n as Element);
  }
  return out;
}

function child(el: Element | undefined, name: string): Element | undefined {
  return el === undefined ? undefined : children(el, name)[0];
}

function text(el: Element | undefined): string | undefined {
  const t = el?.textContent?.trim();
  return t === undefined || t === '' ? undefined : t;
}

function parseXml(xml: string): Element {
  const errors: string[] = [];
  const parser = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') errors.push(message);
    },
  });
  let root: Element | null = null;
  try {
    root = parser.parseFromString(xml, 'text/xml').documentElement;
  } catch (err) {
    throw new InvalidDomainXml(errors[0] ?? String(err), { cause: err });
  }
  if (errors.length > 0 || root === null) throw new InvalidDomainXml(errors[0] ?? 'no root element');
  return root;
}

/** Reads a domain's XML. @throws {InvalidDomainXml} not XML, or no type, name, memory or vCPU count. */
export function describeDomain(xml: string): DomainDescription {
  const root = parseXml(xml);
  if (root.tagName !== 'domain') throw new InvalidDomainXml(`the root element is <${root.tagName}>, not <domain>`);
  const type = root.getAttribute('type');
  if (!type) throw new InvalidDomainXml('missing domain type attribute');
  const name = text(child(root, 'name'));
  if (name === undefined) throw new InvalidDomainXml('missing name information');
  const memory = child(root, 'memory');
  const amount = Number(text(memory));
  const unit = UNITS[memory?.getAttribute('unit') || 'KiB'];
  if (!Number.isSafeInteger(amount) || amount <= 0 || unit === undefined) throw new InvalidDomainXml('missing or invalid <memory>');
  const vcpuText = text(child(root, 'vcpu'));
  const vcpus = vcpuText === undefined ? 1 : Number(vcpuText);
  if (!Number.isSafeInteger(vcpus) || vcpus < 1) throw new InvalidDomainXml(`invalid <vcpu> ${JSON.stringify(vcpuText)}`);
  const devices = child(root, 'devices');
  const disks = devices === undefined ? [] : children(devices, 'disk').flatMap((disk) => {
    const path = child(disk, 'source')?.getAttribute('file');
    if (disk.getAttribute('type') !== 'file' || !path) return [];
    return [{ path, format: child(disk, 'driver')?.getAttribute('type') || 'raw', device: disk.getAttribute('device') || 'disk' }];
  });
  const fileConsole = devices === undefined ? undefined : [...children(devices, 'console'), ...children(devices, 'serial')].find((c) => c.getAttribute('type') === 'file');
  return {
    type,
    name,
    uuid: text(child(root, 'uuid'))?.toLowerCase(),
    memoryKiB: Math.ceil((amount * unit) / 1024),
    vcpus,
    disks,
    consoleLogPath: child(fileConsole, 'source')?.getAttribute('path') || undefined,
  };
}
