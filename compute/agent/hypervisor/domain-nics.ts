import { DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';
import { childElements, parseDomain } from './domain-dom.ts';
import { checkNic, type NicSpec, nicXml } from './domain-xml.ts';

/**
 * A domain's XML with a NIC added or taken out (os-interface's attach and detach), found by its
 * MAC address as libvirt finds an interface. Pure; the rest of the XML is kept as written.
 */

function macOf(nic: Element): string | undefined {
  return childElements(nic, 'mac')[0]?.getAttribute('address')?.toLowerCase() ?? undefined;
}

/** `xml` with `nic` after the domain's other interfaces; `undefined` when one with its MAC is there (an attach done before). @throws {InvalidDomainXml} */
export function withNic(xml: string, nic: NicSpec): string | undefined {
  checkNic(nic);
  const { doc, devices } = parseDomain(xml);
  const nics = childElements(devices, 'interface');
  if (nics.some((n) => macOf(n) === nic.mac)) return undefined;
  const fragment = new DOMParser().parseFromString(nicXml(nic).trim(), 'text/xml').documentElement as Element;
  const node = doc.importNode(fragment, true);
  const after = nics.at(-1) ?? childElements(devices, 'disk').at(-1);
  if (after === undefined) devices.insertBefore(node, devices.firstChild);
  else devices.insertBefore(node, after.nextSibling);
  return new XMLSerializer().serializeToString(doc);
}

/** `xml` without the interface of `mac`; `undefined` when it has none (a detach done before). @throws {InvalidDomainXml} */
export function withoutNic(xml: string, mac: string): string | undefined {
  const { doc, devices } = parseDomain(xml);
  const nic = childElements(devices, 'interface').find((n) => macOf(n) === mac.toLowerCase());
  if (nic === undefined) return undefined;
  devices.removeChild(nic);
  return new XMLSerializer().serializeToString(doc);
}

/** The `<interface>` element of `mac` as XML text (what a live detach names), or `undefined`. @throws {InvalidDomainXml} */
export function nicAt(xml: string, mac: string): string | undefined {
  const { devices } = parseDomain(xml);
  const nic = childElements(devices, 'interface').find((n) => macOf(n) === mac.toLowerCase());
  return nic === undefined ? undefined : new XMLSerializer().serializeToString(nic);
}
