import type { NetworkApi } from '../network-api.ts';
import type { ServerAddress, ServerPort } from '../server-record.ts';

/** Nova's `addresses` of `ports`: each port's fixed IPs under its network's name, with the port's MAC. */
export async function portAddresses(networks: NetworkApi, token: string, ports: readonly ServerPort[]): Promise<Record<string, ServerAddress[]>> {
  const out: Record<string, ServerAddress[]> = {};
  for (const p of ports) {
    const port = await networks.getPort(token, p.portId);
    const network = await networks.getNetwork(token, p.networkId);
    const list = (out[network?.name ?? p.networkId] ??= []);
    for (const ip of port?.fixed_ips ?? []) list.push({ version: ip.ip_address.includes(':') ? 6 : 4, addr: ip.ip_address, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': p.mac });
  }
  return out;
}
