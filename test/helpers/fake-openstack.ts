import { randomUUID } from 'node:crypto';
import type { GlanceImage, ImageApi } from '../../compute/image-api.ts';
import type { NetworkApi, NeutronNetwork, NeutronPort, NeutronSecurityGroup, NeutronSubnet } from '../../compute/network-api.ts';
import { ServiceCallError } from '../../compute/openstack-http.ts';

/** Glance as compute sees it: images and their data, the calls it got. */
export class FakeImageApi implements ImageApi {
  readonly images = new Map<string, { image: GlanceImage; data: Buffer }>();
  downloads = 0;

  add(fields: Partial<GlanceImage> & { data?: Buffer } = {}): GlanceImage {
    const data = fields.data ?? Buffer.from('a bootable disk image\n');
    const image: GlanceImage = { id: randomUUID(), name: 'cirros', status: 'active', disk_format: 'raw', container_format: 'bare', size: data.length, min_disk: 0, min_ram: 0, ...fields };
    delete (image as { data?: Buffer }).data;
    this.images.set(image.id, { image, data });
    return image;
  }

  async get(_token: string, id: string): Promise<GlanceImage | undefined> {
    return this.images.get(id)?.image;
  }

  async create(_token: string, fields: Readonly<Record<string, unknown>>): Promise<GlanceImage> {
    const image = { id: randomUUID(), status: 'queued', disk_format: null, container_format: null, size: null, min_disk: 0, min_ram: 0, name: null, ...fields } as GlanceImage;
    this.images.set(image.id, { image, data: Buffer.alloc(0) });
    return image;
  }

  async upload(_token: string, id: string, formats: { readonly disk_format: string; readonly container_format: string }, data: AsyncIterable<Uint8Array>): Promise<void> {
    const found = this.images.get(id);
    if (!found) throw new ServiceCallError('image', 404, `PUT /v2/images/${id}/file`);
    const chunks: Buffer[] = [];
    for await (const c of data) chunks.push(Buffer.from(c));
    const bytes = Buffer.concat(chunks);
    this.images.set(id, { image: { ...found.image, ...formats, status: 'active', size: bytes.length }, data: bytes });
  }

  async delete(_token: string, id: string): Promise<boolean> {
    return this.images.delete(id);
  }

  /** Images whose fields equal every filter, newest (last made) first. */
  async list(_token: string, filters: Readonly<Record<string, string>>): Promise<GlanceImage[]> {
    return [...this.images.values()].map((i) => i.image).filter((i) => Object.entries(filters).every(([k, v]) => i[k] === v)).reverse();
  }

  /** Projects each image is shared with. */
  readonly members = new Map<string, string[]>();

  async addMember(_token: string, id: string, member: string): Promise<void> {
    const found = this.images.get(id);
    if (!found) throw new ServiceCallError('image', 404, `POST /v2/images/${id}/members`);
    if (found.image['visibility'] !== 'shared') throw new ServiceCallError('image', 403, 'Only shared images have members.');
    this.members.set(id, [...(this.members.get(id) ?? []), member]);
  }

  async download(_token: string, id: string): Promise<AsyncIterable<Buffer>> {
    const found = this.images.get(id);
    if (!found) throw new ServiceCallError('image', 404, `GET /v2/images/${id}/file`);
    this.downloads++;
    return (async function* () {
      yield found.data;
    })();
  }
}

/**
 * Neutron as compute sees it: networks, ports with addresses drawn from 10.0.<n>.0/24, no reuse.
 * As Neutron's policy, `binding:host_id` is set only with an admin's token (`adminTokens`: 403
 * otherwise); `creators` keeps the token each port was created with.
 */
export class FakeNetworkApi implements NetworkApi {
  readonly networks = new Map<string, NeutronNetwork>();
  readonly ports = new Map<string, NeutronPort>();
  readonly adminTokens = new Set<string>();
  readonly creators = new Map<string, string>();
  /** Every port's address is on subnet `subnet` (10.0.0.0/24, DHCP on, as Neutron's default); tests may change it. */
  readonly subnets = new Map<string, NeutronSubnet>([['subnet', { id: 'subnet', cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: '10.0.0.1', enable_dhcp: true, dns_nameservers: [], host_routes: [] }]]);
  private next = 10;

  private checkBinding(token: string, fields: Readonly<Record<string, unknown>>): void {
    if ('binding:host_id' in fields && !this.adminTokens.has(token)) throw new ServiceCallError('network', 403, '(rule:update_port and rule:update_port:binding:host_id) is disallowed by policy');
  }

  addNetwork(name: string): NeutronNetwork {
    const n: NeutronNetwork = { id: randomUUID(), name, shared: false, subnets: ['subnet'] };
    this.networks.set(n.id, n);
    return n;
  }

  async getNetwork(_token: string, id: string): Promise<NeutronNetwork | undefined> {
    return this.networks.get(id);
  }

  async listNetworks(): Promise<NeutronNetwork[]> {
    return [...this.networks.values()];
  }

  async getPort(_token: string, id: string): Promise<NeutronPort | undefined> {
    return this.ports.get(id);
  }

  async getSubnet(_token: string, id: string): Promise<NeutronSubnet | undefined> {
    return this.subnets.get(id);
  }

  /** Security groups by id (tests add them). */
  readonly securityGroups = new Map<string, NeutronSecurityGroup>();

  async getSecurityGroup(_token: string, id: string): Promise<NeutronSecurityGroup | undefined> {
    return [...this.securityGroups.values()].find((g) => g.id === id);
  }

  async listSecurityGroups(_token: string, filters: { readonly id?: string; readonly name?: string; readonly project_id?: string }): Promise<NeutronSecurityGroup[]> {
    return [...this.securityGroups.values()].filter((g) => (filters.id === undefined || g.id === filters.id) && (filters.name === undefined || g.name === filters.name) && (filters.project_id === undefined || g.project_id === filters.project_id));
  }

  async listPorts(_token: string, deviceId: string): Promise<NeutronPort[]> {
    return [...this.ports.values()].filter((p) => p.device_id === deviceId);
  }

  async createPort(token: string, port: Readonly<Record<string, unknown>>): Promise<NeutronPort> {
    this.checkBinding(token, port);
    const networkId = port['network_id'] as string;
    if (!this.networks.has(networkId)) throw new ServiceCallError('network', 404, 'NetworkNotFound');
    const n = this.next++;
    const made: NeutronPort = { device_owner: '', ...port, id: randomUUID(), network_id: networkId, mac_address: `fa:16:3e:00:00:${n.toString(16).padStart(2, '0')}`, device_id: String(port['device_id'] ?? ''), fixed_ips: [{ subnet_id: 'subnet', ip_address: `10.0.0.${n}` }] };
    this.ports.set(made.id, made);
    this.creators.set(made.id, token);
    return made;
  }

  async updatePort(token: string, id: string, fields: Readonly<Record<string, unknown>>): Promise<NeutronPort> {
    this.checkBinding(token, fields);
    const p = this.ports.get(id);
    if (!p) throw new ServiceCallError('network', 404, 'PortNotFound');
    const updated = { ...p, ...fields } as NeutronPort;
    this.ports.set(id, updated);
    return updated;
  }

  async deletePort(_token: string, id: string): Promise<boolean> {
    return this.ports.delete(id);
  }
}
