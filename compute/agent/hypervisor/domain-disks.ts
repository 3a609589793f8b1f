import { DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';
import { childElements, parseDomain } from './domain-dom.ts';
import { checkDisk, type DiskSpec, diskXml } from './domain-xml.ts';
import { DiskTargetInUse } from './errors.ts';

/**
 * A domain's XML with a disk added or taken out: how the drivers change a domain's persistent
 * definition when they attach and detach volumes (defining the domain again: the libvirt binding
 * has no device attach; docs/decisions.md), and how they tell whether a running guest has the
 * disk. All pure; they keep the rest of the XML as the hypervisor wrote it.
 */

function targetOf(disk: Element): string | undefined {
  return childElements(disk, 'target')[0]?.getAttribute('dev') ?? undefined;
}

function nameOf(root: Element): string {
  return childElements(root, 'name')[0]?.textContent?.trim() ?? '';
}

/**
 * `xml` with `disk` after the domain's other disks; `undefined` when that disk is already there
 * (the same file at the same target: an attach done before).
 * @throws {DiskTargetInUse} another file holds the target; {InvalidDomainXml}.
 */
export function withDisk(xml: string, disk: DiskSpec): string | undefined {
  checkDisk(disk);
  const { doc, root, devices } = parseDomain(xml);
  const disks = childElements(devices, 'disk');
  const same = disks.find((d) => targetOf(d) === disk.targetDev);
  if (same !== undefined) {
    if (childElements(same, 'source')[0]?.getAttribute('file') === disk.path) return undefined;
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
  const { doc, devices } = parseDomain(xml);
  const disk = childElements(devices, 'disk').find((d) => targetOf(d) === targetDev);
  if (disk === undefined) return undefined;
  devices.removeChild(disk);
  return new XMLSerializer().serializeToString(doc);
}

/**
 * The `<disk>` element at `targetDev` as XML text (what a live detach names: libvirt finds the
 * disk by its target), or `undefined` when the domain has none there. @throws {InvalidDomainXml}
 */
export function diskAt(xml: string, targetDev: string): string | undefined {
  const { devices } = parseDomain(xml);
  const disk = childElements(devices, 'disk').find((d) => targetOf(d) === targetDev);
  return disk === undefined ? undefined : new XMLSerializer().serializeToString(disk);
}
