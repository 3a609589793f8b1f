import { type Document, DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';
import { checkDisk, type DiskSpec, diskXml } from './domain-xml.ts';
import { DiskTargetInUse, InvalidDomainXml } from './errors.ts';

/**
 * A domain's XML with a disk added or taken out: how the drivers change a domain's persistent
 * definition when they attach and detach volumes (defining the domain again: the libvirt binding
 * has no device attach; docs/decisions.md), and how they tell whether a running guest has the
 * disk. All pure; they keep the rest of the XML as the hypervisor wrote it.
 */

function parse(xml: string): { doc: Document; root: Element; devices: Element } {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => void (level !== 'warning' && errors.push(message)) }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  if (errors.length > 0 || root === null || root.tagName !== 'domain') throw new InvalidDomainXml(errors[0] ?? 'not a <domain>');
  let devices = elements(root, 'devices')[0];
  if (devices === undefined) {
    devices = doc.createElement('devices');
    root.appendChild(devices);
  }
  return { doc, root, devices };
}

function elements(parent: Element, tag: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === n.ELEMENT_NODE && (n as Element).tagName === tag) out.push(n as Element);
  return out;
}

function targetOf(disk: Element): string | undefined {
  return elements(disk, 'target')[0]?.getAttribute('dev') ?? undefined;
}

function nameOf(root: Element): string {
  return elements(root, 'name')[0]?.textContent?.trim() ?? '';
}

/**
 * `xml` with `disk` after the domain's other disks; `undefined` when that disk is already there
 * (the same file at the same target: an attach done before).
 * @throws {DiskTargetInUse} another file holds the target; {InvalidDomainXml}.
 */
export function withDisk(xml: string, disk: DiskSpec): string | undefined {
  checkDisk(disk);
  const { doc, root, devices } = parse(xml);
  const disks = elements(devices, 'disk');
  const same = disks.find((d) => targetOf(d) === disk.targetDev);
  if (same !== undefined) {
    if (elements(same, 'source')[0]?.getAttribute('file') === disk.path) return undefined;
    throw new DiskTargetInUse(nameOf(root), disk.targetDev);
  }
  const fragment = new DOMParser().parseFromString(diskXml(disk).trim(), 'text/xml').documentElement as Element;
  const node = doc.importNode(fragment, true);
  const after = disks.at(-1);
  if (after === undefined) devices.insertBefore(node, devices.firstChild);
  else devices.insertBefore(node, after.nextSibling);
  return new XMLSerializer().serializeToString(doc);
}

/** `xml` without the disk at `targetDev`; `undefined` when it has none there (a detach done before). @throws {InvalidDomainXml} */
export function withoutDisk(xml: string, targetDev: string): string | undefined {
  const { doc, devices } = parse(xml);
  const disk = elements(devices, 'disk').find((d) => targetOf(d) === targetDev);
  if (disk === undefined) return undefined;
  devices.removeChild(disk);
  return new XMLSerializer().serializeToString(doc);
}

/**
 * The `<disk>` element at `targetDev` as XML text (what a live detach names: libvirt finds the
 * disk by its target), or `undefined` when the domain has none there. @throws {InvalidDomainXml}
 */
export function diskAt(xml: string, targetDev: string): string | undefined {
  const { devices } = parse(xml);
  const disk = elements(devices, 'disk').find((d) => targetOf(d) === targetDev);
  return disk === undefined ? undefined : new XMLSerializer().serializeToString(disk);
}
