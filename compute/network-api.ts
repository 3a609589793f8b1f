import type { BackendClient } from '../common/http/backend-client.ts';
import { OpenStackHttp, ServiceCallError } from './openstack-http.ts';
import type { ServiceAuth } from './service-auth.ts';

export interface NeutronNetwork {
  readonly id: string;
  readonly name: string;
  readonly shared?: boolean;
  readonly 'router:external'?: boolean;
  readonly project_id?: string;
  readonly mtu?: number;
  /** Its subnets' ids. */
  readonly subnets?: readonly string[];
}

export interface NeutronPort {
  readonly id: string;
  readonly network_id: string;
  readonly mac_address: string;
  readonly device_id: string;
  readonly fixed_ips: readonly { readonly subnet_id: string; readonly ip_address: string }[];
  readonly [field: string]: unknown;
}

/** A subnet as Neutron v2.0 shows it (the fields a guest's network configuration needs). */
export interface NeutronSubnet {
  readonly id: string;
  readonly cidr: string;
  readonly ip_version: number;
  readonly gateway_ip: string | null;
  readonly enable_dhcp: boolean;
  readonly dns_nameservers: readonly string[];
  readonly host_routes: readonly { readonly destination: string; readonly nexthop: string }[];
  readonly ipv6_address_mode?: string | null;
}

/** A security group as Neutron v2.0 lists it (the fields compute reads). */
export interface NeutronSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly project_id: string;
  readonly description?: string;
  readonly security_group_rules?: readonly NeutronSecurityGroupRule[];
}

export interface NeutronSecurityGroupRule {
  readonly id: string;
  readonly security_group_id: string;
  readonly direction: 'ingress' | 'egress';
  readonly protocol: string | null;
  readonly port_range_min: number | null;
  readonly port_range_max: number | null;
  readonly remote_ip_prefix: string | null;
  readonly remote_group_id: string | null;
}

/** What compute asks of the network service (Neutron v2.0), with the user's token. */
export interface NetworkApi {
  getNetwork(token: string, id: string): Promise<NeutronNetwork | undefined>;
  /** Networks a server may join when it asks for `auto`: the project's and the shared ones, not external. */
  listNetworks(token: string): Promise<NeutronNetwork[]>;
  getPort(token: string, id: string): Promise<NeutronPort | undefined>;
  getSubnet(token: string, id: string): Promise<NeutronSubnet | undefined>;
  /** Security groups matching every filter given (`GET /v2.0/security-groups?id=&name=&project_id=`). */
  listSecurityGroups(token: string, filters: { readonly id?: string; readonly name?: string; readonly project_id?: string }): Promise<NeutronSecurityGroup[]>;
  getSecurityGroup(token: string, id: string): Promise<NeutronSecurityGroup | undefined>;
  /** Ports of a server (`device_id`). */
  listPorts(token: string, deviceId: string): Promise<NeutronPort[]>;
  /** @throws {ServiceCallError} with Neutron's status (409 for an exhausted subnet or an address in use). */
  createPort(token: string, port: Readonly<Record<string, unknown>>): Promise<NeutronPort>;
  updatePort(token: string, id: string, fields: Readonly<Record<string, unknown>>): Promise<NeutronPort>;
  /** False when it was already gone. */
  deletePort(token: string, id: string): Promise<boolean>;
}

/** Neutron v2.0 over HTTP. */
export class NeutronNetworkApi implements NetworkApi {
  private readonly http: OpenStackHttp;

  /** `serviceAuth`: compute's own credential, sent as `X-Service-Token` beside the user's token. */
  constructor(url: string, http: BackendClient, serviceAuth?: ServiceAuth) {
    this.http = new OpenStackHttp('network', url, http, serviceAuth);
  }

  private async one<T>(path: string, token: string, key: string): Promise<T | undefined> {
    const res = await this.http.json('GET', path, token);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new ServiceCallError('network', res.status, `GET ${path}`);
    return (res.json as Record<string, T>)[key];
  }

  getNetwork(token: string, id: string): Promise<NeutronNetwork | undefined> {
    return this.one(`/v2.0/networks/${encodeURIComponent(id)}`, token, 'network');
  }

  getPort(token: string, id: string): Promise<NeutronPort | undefined> {
    return this.one(`/v2.0/ports/${encodeURIComponent(id)}`, token, 'port');
  }

  getSubnet(token: string, id: string): Promise<NeutronSubnet | undefined> {
    return this.one(`/v2.0/subnets/${encodeURIComponent(id)}`, token, 'subnet');
  }

  getSecurityGroup(token: string, id: string): Promise<NeutronSecurityGroup | undefined> {
    return this.one(`/v2.0/security-groups/${encodeURIComponent(id)}`, token, 'security_group');
  }

  async listSecurityGroups(token: string, filters: { readonly id?: string; readonly name?: string; readonly project_id?: string }): Promise<NeutronSecurityGroup[]> {
    const q = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined));
    const path = `/v2.0/security-groups?${q.toString()}`;
    const res = await this.http.json('GET', path, token);
    if (res.status !== 200) throw new ServiceCallError('network', res.status, `GET ${path}`);
    return (res.json as { security_groups: NeutronSecurityGroup[] }).security_groups;
  }

  async listNetworks(token: string): Promise<NeutronNetwork[]> {
    const res = await this.http.json('GET', '/v2.0/networks', token);
    if (res.status !== 200) throw new ServiceCallError('network', res.status, 'GET /v2.0/networks');
    return ((res.json as { networks: NeutronNetwork[] }).networks ?? []).filter((n) => !n['router:external']);
  }

  async listPorts(token: string, deviceId: string): Promise<NeutronPort[]> {
    const res = await this.http.json('GET', '/v2.0/ports', token, undefined, `device_id=${encodeURIComponent(deviceId)}`);
    if (res.status !== 200) throw new ServiceCallError('network', res.status, 'GET /v2.0/ports');
    return (res.json as { ports: NeutronPort[] }).ports ?? [];
  }

  async createPort(token: string, port: Readonly<Record<string, unknown>>): Promise<NeutronPort> {
    const res = await this.http.json('POST', '/v2.0/ports', token, { port });
    if (res.status !== 201) throw new ServiceCallError('network', res.status, JSON.stringify(res.json).slice(0, 300));
    return (res.json as { port: NeutronPort }).port;
  }

  async updatePort(token: string, id: string, fields: Readonly<Record<string, unknown>>): Promise<NeutronPort> {
    const res = await this.http.json('PUT', `/v2.0/ports/${encodeURIComponent(id)}`, token, { port: fields });
    if (res.status !== 200) throw new ServiceCallError('network', res.status, JSON.stringify(res.json).slice(0, 300));
    return (res.json as { port: NeutronPort }).port;
  }

  async deletePort(token: string, id: string): Promise<boolean> {
    const res = await this.http.json('DELETE', `/v2.0/ports/${encodeURIComponent(id)}`, token);
    if (res.status === 404) return false;
    if (res.status !== 204) throw new ServiceCallError('network', res.status, `DELETE /v2.0/ports/${id}`);
    return true;
  }
}
