import { type Document, DOMParser, type Element } from '@xmldom/xmldom';
import { InvalidDomainXml } from './errors.ts';

/** The DOM steps the domain XML editors (domain-disks.ts, domain-nics.ts) share. */

/** A domain's XML parsed, with its `<devices>` (made when absent). @throws {InvalidDomainXml} */
export function parseDomain(xml: string): { doc: Document; root: Element; devices: Element } {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => void (level !== 'warning' && errors.push(message)) }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  if (errors.length > 0 || root === null || root.tagName !== 'domain') throw new InvalidDomainXml(errors[0] ?? 'not a <domain>');
  let devices = childElements(root, 'devices')[0];
  if (devices === undefined) {
    devices = doc.createElement('devices');
    root.appendChild(devices);
  }
  return { doc, root, devices };
}

/** The direct children of `parent` named `tag`. */
export function childElements(parent: Element, tag: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === n.ELEMENT_NODE && (n as Element).tagName === tag) out.push(n as Element);
  return out;
}
