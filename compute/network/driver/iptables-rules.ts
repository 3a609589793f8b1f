import { parseCidr } from '../cidr.ts';
import { eui64Address } from '../eui64.ts';
import { formatIp, parseIp } from '../ip-address.ts';
import { CHAIN_PREFIX, chainName, portChain, tapName } from './device-names.ts';
import type { HostNetworkConfig, PortBinding, SecurityGroupRule } from './types.ts';

/**
 * The filter table Neutron's iptables firewall (`neutron/agent/linux/iptables_firewall.py`)
 * builds for the ports of a host, as `iptables-restore` input: each filtered port gets an
 * ingress chain (`i`), an egress chain (`o`) and an anti-spoofing chain (`s`), reached from
 * FORWARD and INPUT by physdev matches on its tap; security group rules RETURN, anything else
 * falls through to `sg-fallback`, which drops. Ports without port security, and Neutron's own
 * (`network:*`), are accepted unfiltered (trusted). Comments are left out.
 */

const SG_CHAIN = chainName('sg-chain');
const FALLBACK = chainName('sg-fallback');
const FORWARD = chainName('FORWARD');
const INPUT = chainName('INPUT');

// neutron-lib IPTABLES_PROTOCOL_NAME_MAP (numbers to names) and IPTABLES_PROTOCOL_MAP (the -m module).
const PROTOCOL_NAMES: Readonly<Record<string, string>> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '33': 'dccp', '58': 'ipv6-icmp', '132': 'sctp', icmpv6: 'ipv6-icmp', any: '' };
const PROTOCOL_MODULES: Readonly<Record<string, string>> = { dccp: 'dccp', icmp: 'icmp', 'ipv6-icmp': 'icmp6', sctp: 'sctp', tcp: 'tcp', udp: 'udp' };
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'dccp', 'sctp', 'udplite']);

// ICMPv6 the firewall always lets in (MLD query, neighbor solicitation and advertisement) and
// lets out from the unspecified address for duplicate address detection.
const ICMPV6_ALLOWED_INGRESS_TYPES = [130, 135, 136];
const ICMPV6_ALLOWED_UNSPEC_ADDR_TYPES = [131, 135, 143];
const ICMPV6_TYPE_RA = 134;

function protocolName(protocol: string | null, ethertype: 'IPv4' | 'IPv6'): string {
  if (protocol === null || protocol === '0') return '';
  const name = PROTOCOL_NAMES[protocol.toLowerCase()] ?? protocol.toLowerCase();
  return name === 'icmp' && ethertype === 'IPv6' ? 'ipv6-icmp' : name;
}

/** `_ip_prefix_arg`: an address becomes a /32 or /128; a /0 is no constraint and is left out. */
function prefixArg(flag: 's' | 'd', prefix: string | null): string[] {
  if (prefix === null || prefix === '') return [];
  if (!prefix.includes('/')) {
    const ip = parseIp(prefix);
    return ip === undefined ? [] : [`-${flag}`, `${formatIp(ip)}/${ip.version === 4 ? 32 : 128}`];
  }
  return prefix.endsWith('/0') ? [] : [`-${flag}`, prefix];
}

/** `_generate_plain_rule_args`: source, destination, protocol, ports, target, in iptables-save's order. */
function ruleArgs(rule: SecurityGroupRule, remotePrefix: string | null): string {
  const args = rule.direction === 'ingress' ? prefixArg('s', remotePrefix) : prefixArg('d', remotePrefix);
  const proto = protocolName(rule.protocol, rule.ethertype);
  if (proto !== '') {
    args.push('-p', proto);
    const module = PROTOCOL_MODULES[proto];
    if (rule.portRangeMin !== null && module !== undefined) args.push('-m', module);
  }
  if (rule.portRangeMin !== null) {
    if (proto === 'icmp' || proto === 'ipv6-icmp') {
      args.push(`--${proto === 'icmp' ? 'icmp' : 'icmpv6'}-type`, rule.portRangeMax === null ? `${rule.portRangeMin}` : `${rule.portRangeMin}/${rule.portRangeMax}`);
    } else if (PORT_PROTOCOLS.has(proto)) {
      const max = rule.portRangeMax ?? rule.portRangeMin;
      if (max === rule.portRangeMin) args.push('--dport', `${rule.portRangeMin}`);
      else args.push('-m', 'multiport', '--dports', `${rule.portRangeMin}:${max}`);
    }
  }
  args.push('-j', 'RETURN');
  return args.join(' ');
}

/** `_expand_sg_rule_with_remote_ips`: a rule naming a remote group is one rule per member address (not the port's own). */
function expand(rule: SecurityGroupRule, port: PortBinding, config: HostNetworkConfig): string[] {
  if (rule.remoteGroupId === null) return [ruleArgs(rule, rule.remoteIpPrefix)];
  const version = rule.ethertype === 'IPv4' ? 4 : 6;
  return (config.members[rule.remoteGroupId] ?? [])
    .filter((ip) => parseIp(ip)?.version === version && !port.fixedIps.includes(ip))
    .map((ip) => ruleArgs(rule, ip));
}

/** `_convert_sgr_to_iptables_rules`: established first, the rules once each, invalid dropped, the rest to fallback. */
function sgRules(port: PortBinding, config: HostNetworkConfig, direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6'): string[] {
  const groups = new Set(port.securityGroups);
  const rules = config.rules.filter((r) => groups.has(r.securityGroupId) && r.direction === direction && r.ethertype === ethertype);
  const out = ['-m state --state RELATED,ESTABLISHED -j RETURN'];
  for (const args of rules.flatMap((r) => expand(r, port, config))) if (!out.includes(args)) out.push(args);
  out.push('-m state --state INVALID -j DROP', `-j ${FALLBACK}`);
  return out;
}

const toMacIptables = (mac: string): string => mac.toUpperCase();

/** `_spoofing_rule` and `_drop_dhcp_rule`: what may leave the port before its egress rules. */
function egressFixed(port: PortBinding, version: 4 | 6, spoofChain: string, spoof: string[]): string[] {
  const pairs: [string, string | null][] = [];
  const addPair = (mac: string, ip: string): void => {
    const parsed = parseIp(ip.includes('/') ? ip.slice(0, ip.indexOf('/')) : ip);
    if (parsed?.version !== version) return;
    const cidr = ip.includes('/') ? ip : `${formatIp(parsed)}/${version === 4 ? 32 : 128}`;
    if (!pairs.some(([m, i]) => m === mac && i === cidr)) pairs.push([mac, cidr]);
    if (version === 6) {
      const lla = `${formatIp(eui64Address(parseCidr('fe80::/64'), mac))}/128`;
      if (!pairs.some(([m, i]) => m === mac && i === lla)) pairs.push([mac, lla]);
    }
  };
  for (const pair of port.allowedAddressPairs ?? []) addPair(pair.macAddress ?? port.macAddress, pair.ipAddress);
  for (const ip of port.fixedIps) addPair(port.macAddress, ip);
  if (port.fixedIps.length === 0) pairs.push([port.macAddress, null]);
  const rules: string[] =
    version === 4
      ? ['-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -j RETURN']
      : ICMPV6_ALLOWED_UNSPEC_ADDR_TYPES.map((t) => `-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`);
  if (pairs.length > 0) {
    for (const [mac, ip] of pairs) spoof.push(ip === null ? `-m mac --mac-source ${toMacIptables(mac)} -j RETURN` : `-s ${ip} -m mac --mac-source ${toMacIptables(mac)} -j RETURN`);
    spoof.push('-j DROP');
    rules.push(`-j ${spoofChain}`);
  }
  if (version === 4) rules.push('-p udp -m udp --sport 68 --dport 67 -j RETURN', '-p udp -m udp --sport 67 --dport 68 -j DROP');
  else {
    rules.push(`-p ipv6-icmp -m icmp6 --icmpv6-type ${ICMPV6_TYPE_RA} -j DROP`, '-p ipv6-icmp -j RETURN', '-p udp -m udp --sport 546 --dport 547 -j RETURN', '-p udp -m udp --sport 547 --dport 546 -j DROP');
  }
  return rules;
}

function table(config: HostNetworkConfig, version: 4 | 6): string[] {
  const ethertype = version === 4 ? 'IPv4' : 'IPv6';
  const ports = [...config.ports].sort((a, b) => a.id.localeCompare(b.id));
  const filtered = ports.filter((p) => p.portSecurityEnabled && !p.deviceOwner.startsWith('network:'));
  const trusted = ports.filter((p) => !filtered.includes(p));
  const chains = [FORWARD, INPUT, SG_CHAIN, FALLBACK];
  const rules: string[] = [`-A FORWARD -j ${FORWARD}`, `-A INPUT -j ${INPUT}`];
  const add = (chain: string, rule: string): number => rules.push(`-A ${chain} ${rule}`);
  for (const port of filtered) {
    const tap = tapName(port.id);
    const [i, o, s] = [portChain('i', port.id), portChain('o', port.id), portChain('s', port.id)];
    chains.push(i, o);
    add(FORWARD, `-m physdev --physdev-out ${tap} --physdev-is-bridged -j ${SG_CHAIN}`);
    add(SG_CHAIN, `-m physdev --physdev-out ${tap} --physdev-is-bridged -j ${i}`);
    add(FORWARD, `-m physdev --physdev-in ${tap} --physdev-is-bridged -j ${SG_CHAIN}`);
    add(SG_CHAIN, `-m physdev --physdev-in ${tap} --physdev-is-bridged -j ${o}`);
    add(INPUT, `-m physdev --physdev-in ${tap} --physdev-is-bridged -j ${o}`);
    const ingress = [...(version === 6 ? ICMPV6_ALLOWED_INGRESS_TYPES.map((t) => `-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`) : []), ...sgRules(port, config, 'ingress', ethertype)];
    for (const r of ingress) add(i, r);
    const spoof: string[] = [];
    const egress = [...egressFixed(port, version, s, spoof), ...sgRules(port, config, 'egress', ethertype)];
    if (spoof.length > 0) chains.push(s);
    for (const r of spoof) add(s, r);
    for (const r of egress) add(o, r);
  }
  add(SG_CHAIN, '-j ACCEPT');
  for (const port of trusted) {
    const tap = tapName(port.id);
    add(FORWARD, `-m physdev --physdev-out ${tap} --physdev-is-bridged -j ACCEPT`);
    add(FORWARD, `-m physdev --physdev-in ${tap} --physdev-is-bridged -j ACCEPT`);
    add(INPUT, `-m physdev --physdev-in ${tap} --physdev-is-bridged -j ACCEPT`);
  }
  add(FALLBACK, '-j DROP');
  return ['*filter', ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT'];
}

/** The IPv4 and IPv6 filter tables for `config`, as `iptables-restore` reads them. */
export function firewallRules(config: HostNetworkConfig): { ipv4: string[]; ipv6: string[] } {
  return { ipv4: table(config, 4), ipv6: table(config, 6) };
}

/** Whether a chain is one of ours (the apply step flushes only those). */
export function isOwnChain(chain: string): boolean {
  return chain.startsWith(CHAIN_PREFIX);
}
