import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import type { BuildRequest } from '../build-request.ts';
import { badRequest, conflict, NovaError, notFound, overQuota, policyForbidden } from '../errors.ts';
import { flavorVisible } from '../flavor-view.ts';
import { hostStatusShown, hostStatuses } from '../host-status.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import type { ImageApi } from '../image-api.ts';
import { UNBIND_FIELDS } from '../port-binding.ts';
import type { ServiceAuth } from '../service-auth.ts';
import type { NetworkApi } from '../network-api.ts';
import { placeBuilds } from '../placement.ts';
import { exceeds, quotaLimits } from '../quota.ts';
import { type FlavorRecord, type KeypairRecord, T } from '../records.ts';
import { recordTermination } from '../terminated-servers.ts';
import { type ComputeContext, type ComputeRequest, type ComputeResponse, type ComputeRoute, contextOf, NO_CONTENT, ok } from '../request.ts';
import { serverClaims } from '../resize-claims.ts';
import { releaseOn } from '../scheduler/claims.ts';
import { isServiceUp } from '../scheduler/host-state.ts';
import { resourcesFromFlavor } from '../scheduler/request-spec.ts';
import type { ComputeHostRecord } from '../host-record.ts';
import { type RequestedNetwork, type ServerRecord, serverStatus, STATUS_TO_VM_STATES } from '../server-record.ts';
import { leaveGroup, type ServerGroupRecord } from '../server-group-record.ts';
import { indexServer, serverOrderKey, serversInOrder, unindexServer } from '../server-index.ts';
import { serverBasic, serverDetail } from '../server-view.ts';
import type { ComputeStore } from '../store.ts';
import type { ProjectUsage } from '../usage.ts';
import { enqueue } from '../work-queue.ts';
import { recordAction } from '../instance-actions.ts';
import { checkMetadataQuota, metadataParam } from './metadata-param.ts';
import { tagsParam } from './tags-param.ts';
import { bodyMember, fieldError, fqdnParam, integerParam, isObject, nameParam, pyRepr, type JsonObject, UUID_LIKE } from '../validation.ts';
import { MAX_LIMIT } from './flavors.ts';
import { releaseVolumes } from '../release-volumes.ts';
import type { VolumeApi } from '../volume-api.ts';
import { nextLink } from './next-link.ts';
import { type BlockDeviceMapping, nextDeviceName, volumesOf } from '../block-device-record.ts';
import { type BootMeta, bootMetaOf, type CheckedMapping, checkMappings, checkRootSize, checkSequence, imageBootMeta, invalidBootSequence, invalidFormat, parseMappings, type RequestedMapping, reserve, zoneOfVolumes } from './block-device-mappings.ts';
import { imageDefinedMappings, withImageMappings } from './image-mappings.ts';
import { localDisksAtBoot } from '../local-disks.ts';


export interface ServerApiDeps {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly usage: ProjectUsage;
  readonly images: ImageApi;
  readonly networks: NetworkApi;
  /** Compute's own token, to unbind a user's port (Neutron lets only admins clear `binding:host_id`). */
  readonly service?: ServiceAuth;
  /** The volume service, for a local delete's attached volumes. */
  readonly volumes?: VolumeApi;
  /** Nova's `[cinder] cross_az_attach` (default true): false keeps a boot's volumes and server in one zone. */
  readonly crossAzAttach?: boolean;
  readonly logger: Logger;
}

/** A server the caller may see (its project's, or any for admins). @throws {NovaError} 404 */
export async function visibleServer(store: ComputeStore, req: ComputeRequest, uuid: string): Promise<ServerRecord> {
  const c = contextOf(req);
  const s = UUID_LIKE.test(uuid) ? await store.get<ServerRecord>(T.servers, uuid) : undefined;
  if (!s || (!c.isAdmin && s.project_id !== c.projectId)) throw notFound(`Instance ${uuid} could not be found.`);
  return s;
}

function token(req: ComputeRequest): string {
  return req.headers['x-auth-token'] ?? '';
}

/** `networks`: `auto`/`none` (2.37), or NICs by network uuid, port, fixed_ip. */
function parseNetworks(req: ComputeRequest, value: unknown): ServerRecord['networks'] {
  if (value === undefined) {
    if (atLeast(req.version, '2.37')) throw fieldError('server', value, "'networks' is a required property");
    return 'auto';
  }
  if (value === 'auto' || value === 'none') {
    if (!atLeast(req.version, '2.37')) throw fieldError('networks', value, `${pyRepr(value)} is not of type 'array'`);
    return value;
  }
  if (!Array.isArray(value)) throw fieldError('networks', value, `${pyRepr(value)} is not of type 'array'`);
  return value.map((n: unknown): RequestedNetwork => {
    if (!isObject(n)) throw fieldError('networks', n, `${pyRepr(n)} is not of type 'object'`);
    const out: { uuid?: string; port?: string; fixed_ip?: string } = {};
    if (n['uuid'] !== undefined) {
      if (typeof n['uuid'] !== 'string' || !UUID_LIKE.test(n['uuid'])) throw badRequest(`Bad networks format: network uuid is not in proper format (${String(n['uuid'])})`);
      out.uuid = n['uuid'];
    }
    if (n['port'] !== undefined && n['port'] !== null) {
      if (typeof n['port'] !== 'string' || !UUID_LIKE.test(n['port'])) throw fieldError('port', n['port'], `${pyRepr(n['port'])} is not a 'uuid'`);
      out.port = n['port'];
    }
    if (n['fixed_ip'] !== undefined) {
      if (typeof n['fixed_ip'] !== 'string') throw fieldError('fixed_ip', n['fixed_ip'], `${pyRepr(n['fixed_ip'])} is not a 'ip-address'`);
      out.fixed_ip = n['fixed_ip'];
    }
    if (out.uuid === undefined && out.port === undefined) throw badRequest('Bad network format: missing uuid');
    return out;
  });
}

/**
 * `/v2.1/servers`: create (Nova's body, checked against the image in Glance, the flavor, the
 * keypair, the networks and ports in Neutron and the quotas, then placed and queued for the
 * host's agent), list and detail (filters, sorting, paging; `all_tenants` for admins), show,
 * update and delete.
 */
export function serverRoutes(d: ServerApiDeps): ComputeRoute[] {
  const { store } = d;

  const create = async (req: ComputeRequest): Promise<ComputeResponse> => {
    const c = contextOf(req);
    const allowed = ['name', 'imageRef', 'flavorRef', 'networks', 'metadata', 'key_name', 'user_data', 'security_groups', 'availability_zone', 'min_count', 'max_count', 'return_reservation_id', 'config_drive', 'adminPass', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', 'block_device_mapping_v2', 'personality', ...(atLeast(req.version, '2.19') ? ['description'] : []), ...(atLeast(req.version, '2.52') ? ['tags'] : []), ...(atLeast(req.version, '2.74') ? ['host', 'hypervisor_hostname'] : []), ...(atLeast(req.version, '2.90') ? ['hostname'] : [])];
    const body = req.body;
    if (!isObject(body)) throw badRequest(`${pyRepr(body ?? null)} is not of type 'object'`);
    const extra = Object.keys(body).filter((k) => !['server', 'os:scheduler_hints', 'OS-SCH-HNT:scheduler_hints'].includes(k));
    if (extra.length > 0) throw badRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
    const s = bodyMember({ server: body['server'] }, 'server', allowed, ['name', 'flavorRef']);
    const groupId = groupHint(body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints']);
    const name = nameParam('name', s['name']);
    const flavorRef = String(s['flavorRef']).split('/').at(-1) as string;
    const imageRef = s['imageRef'] === undefined || s['imageRef'] === '' ? '' : String(s['imageRef']).split('/').at(-1) as string;
    let requested = s['block_device_mapping_v2'] === undefined ? [] : parseMappings(req, s['block_device_mapping_v2'], imageRef !== '');
    if (imageRef === '' && requested.length === 0) throw invalidBootSequence();
    const minCount = s['min_count'] === undefined ? 1 : integerParam('min_count', s['min_count'], 1);
    const maxCount = s['max_count'] === undefined ? minCount : integerParam('max_count', s['max_count'], 1);
    if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
    if (requested.length > 0) checkSequence(requested, maxCount);
    const rootOf = (mappings: readonly RequestedMapping[]) => {
      const wantsVolumes = mappings.some((m) => m.destinationType === 'volume');
      if (wantsVolumes && !d.volumes) throw invalidFormat('volumes are not offered by this cloud.');
      const rootMapping = mappings.find((m) => m.bootIndex === 0);
      // Booted from a volume (Nova's is_volume_backed): the root disk is a Cinder volume, not the image's copy on the host.
      return { rootMapping, volumeBacked: rootMapping?.destinationType === 'volume', wantsVolumes };
    };
    let { rootMapping, volumeBacked, wantsVolumes } = rootOf(requested);
    const metadata = s['metadata'] === undefined ? {} : metadataParam('metadata', s['metadata']);
    await checkMetadataQuota(store, c.projectId, metadata);
    const tags = s['tags'] === undefined ? [] : tagsParam(s['tags']);
    const networks = parseNetworks(req, s['networks']);
    const description = s['description'] === undefined || s['description'] === null ? null : String(s['description']);
    let userData: string | null = null;
    if (s['user_data'] !== undefined && s['user_data'] !== null) {
      const u = s['user_data'];
      if (typeof u !== 'string' || u.length > 65535 || !/^[A-Za-z0-9+/]*={0,2}$/.test(u.replace(/\s/g, '')) || u.replace(/\s/g, '').length % 4 !== 0) throw badRequest('User data needs to be valid base 64.');
      userData = u;
    }
    const securityGroups = Array.isArray(s['security_groups'])
      ? [...new Set((s['security_groups'] as unknown[]).map((g) => (isObject(g) && typeof g['name'] === 'string' ? g['name'] : '')).filter((n) => n !== ''))]
      : ['default'];
    const { zone, forcedHost, requestedHost } = await destinationOf(d, c, s);

    const flavor = await store.get<FlavorRecord>(T.flavors, flavorRef);
    if (!flavor || !flavorVisible(flavor, c.projectId, c.isAdmin)) throw badRequest(`Flavor ${flavorRef} could not be found.`);
    if (flavor.disabled) throw badRequest(`Flavor ${flavorRef} could not be found.`);
    let meta: BootMeta;
    if (imageRef !== '') {
      const image = await d.images.get(token(req), imageRef);
      if (!image) throw badRequest('Can not find requested image');
      if (image.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
      meta = imageBootMeta(image);
      // An image of a volume-backed server's snapshots maps its volumes: the server boots from volumes made of them.
      const fromImage = imageDefinedMappings(image);
      if (fromImage.length > 0) {
        requested = withImageMappings(requested, fromImage);
        checkSequence(requested, maxCount);
        ({ rootMapping, volumeBacked, wantsVolumes } = rootOf(requested));
      }
      if (!volumeBacked) {
        if (flavor.root_gb > 0 && flavor.root_gb < (image.min_disk ?? 0)) throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * 1024 ** 3} bytes, minimum disk is ${image.min_disk * 1024 ** 3} bytes.`);
        if (flavor.root_gb > 0 && image.size !== null && image.size > flavor.root_gb * 1024 ** 3) throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * 1024 ** 3} bytes, image is ${image.size} bytes.`);
      }
    } else {
      meta = await bootMetaOf({ images: d.images, volumes: d.volumes as VolumeApi }, token(req), rootMapping as RequestedMapping);
    }
    // Nova's flavor-defined mappings and their checks: the ephemeral disk and swap the host makes.
    const blanks = requested.filter((m) => m.destinationType === 'local' && m.sourceType === 'blank').map((m) => ({ ...(m.volumeSize !== undefined ? { volumeSize: m.volumeSize } : {}), guestFormat: m.guestFormat ?? null }));
    const localDisks = localDisksAtBoot({ ephemeral: flavor.ephemeral_gb, swap: flavor.swap }, blanks, !volumeBacked);
    const volumes = wantsVolumes ? d.volumes : undefined;
    if (flavor.memory_mb < meta.minRam) throw badRequest("Flavor's memory is too small for requested image.");
    const checked = volumes ? await checkMappings({ images: d.images, volumes }, token(req), requested) : [];
    const rootChecked = checked.find((m) => m.request.bootIndex === 0);
    if (rootChecked) checkRootSize(meta, rootChecked.size);
    // Without a zone asked for, a server whose volumes must be in its zone goes to theirs.
    const volumesZone = d.crossAzAttach === false ? zoneOfVolumes(zone, checked) : undefined;
    const placeZone = zone ?? volumesZone;
    let key: KeypairRecord | undefined;
    if (s['key_name'] !== undefined && s['key_name'] !== null) {
      key = await store.get<KeypairRecord>(T.keypairs, `${c.userId}/${String(s['key_name'])}`);
      if (!key) throw badRequest('Invalid key_name provided.');
    }
    if (Array.isArray(networks)) {
      for (const n of networks) {
        if (n.port !== undefined) {
          const port = await d.networks.getPort(token(req), n.port);
          if (!port) throw badRequest(`Port id ${n.port} could not be found.`);
          if (port.device_id !== '') throw conflict(`Port ${n.port} is still in use.`);
          if (maxCount > 1) throw badRequest('Multiple instances cannot be created with the same port.');
        } else if (n.uuid !== undefined && !(await d.networks.getNetwork(token(req), n.uuid))) {
          throw badRequest(`Network ${n.uuid} could not be found.`);
        }
      }
    } else if (networks === 'auto' && (await d.networks.listNetworks(token(req))).length === 0) {
      throw badRequest(`Unable to automatically allocate a network for project ${c.projectId}`);
    }

    let group: ServerGroupRecord | undefined;
    if (groupId !== undefined) {
      group = await store.get<ServerGroupRecord>(T.serverGroups, groupId);
      // Nova finds the group by UUID alone; here another project's group is as good as absent.
      if (!group || (!c.isAdmin && group.project_id !== c.projectId)) throw badRequest(`Instance group ${groupId} could not be found.`);
    }

    // Quotas (Nova's count_as_resource): as many as fit between min_count and max_count.
    const limits = await quotaLimits(store, c.projectId);
    const used = await d.usage.of(c.projectId);
    let count = maxCount;
    const fitsCount = (n: number) => !exceeds(limits.instances, used.instances, n) && !exceeds(limits.cores, used.cores, n * flavor.vcpus) && !exceeds(limits.ram, used.ram, n * flavor.memory_mb);
    while (count >= minCount && !fitsCount(count)) count--;
    if (count < minCount) {
      for (const [name, per, limit, inUse] of [['instances', 1, limits.instances, used.instances], ['cores', flavor.vcpus, limits.cores, used.cores], ['ram', flavor.memory_mb, limits.ram, used.ram]] as const) {
        if (exceeds(limit, inUse, minCount * per)) throw overQuota(`Quota exceeded for ${name}: Requested ${minCount * per}, but already used ${inUse} of ${limit} ${name}`);
      }
    }

    const now = store.clock.now();
    const created = store.isoSeconds(now);
    const reservation = `r-${randomBytes(4).toString('hex').slice(0, 8)}`;
    const requestId = req.requestId;
    // A volume-backed server's root disk is not on the host (Nova's resources_from_request_spec with is_bfv).
    const claimResources = resourcesFromFlavor({ vcpus: flavor.vcpus, ram: flavor.memory_mb, disk: flavor.root_gb, 'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral_gb, swap: flavor.swap }, volumeBacked);
    const builds: BuildRequest[] = [];
    const servers: ServerRecord[] = [];
    const uuids = Array.from({ length: count }, () => randomUUID());
    // Existing volumes are reserved for the one server they can go to (checkSequence refuses them with more).
    const attachments = new Map<string, string>();
    const unreserve = async () => {
      for (const a of attachments.values()) await volumes?.attachmentDelete(token(req), a).catch((err) => d.logger.warn('attachment delete failed', { err }));
    };
    for (const m of checked) {
      if (m.volume === undefined) continue;
      try {
        attachments.set(m.volume.id, await reserve(volumes as VolumeApi, token(req), m.volume.id, uuids[0] as string));
      } catch (err) {
        await unreserve();
        throw err;
      }
    }
    if (group) await joinGroup(store, group.uuid, uuids, limits.server_group_members).catch(async (err) => {
      await unreserve();
      throw err;
    });
    for (let i = 0; i < count; i++) {
      const uuid = uuids[i] as string;
      const displayName = count > 1 ? `${name}-${i + 1}` : name;
      const record: ServerRecord = {
        uuid,
        name: displayName,
        description,
        project_id: c.projectId,
        user_id: c.userId,
        image_ref: imageRef,
        ...(volumeBacked ? { volume_backed: true, root_disk_unclaimed: true } : {}),
        ...(checked.length > 0 ? { volume_mappings: true } : {}),
        local_disks: localDisks,
        os_type: meta.osType ?? null,
        flavor: { flavorid: flavor.flavorid, name: flavor.name, vcpus: flavor.vcpus, ram: flavor.memory_mb, disk: flavor.root_gb, ephemeral: flavor.ephemeral_gb, swap: flavor.swap, extra_specs: flavor.extra_specs },
        key_name: key?.name ?? null,
        key_data: key?.public_key ?? null,
        user_data: userData,
        metadata,
        security_groups: securityGroups,
        networks,
        availability_zone: placeZone ?? null,
        config_drive: s['config_drive'] === true || s['config_drive'] === 'True' ? 'True' : '',
        reservation_id: reservation,
        launch_index: i,
        hostname: displayName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'server',
        instance_name: `instance-${uuid}`,
        host: null,
        vm_state: 'building',
        task_state: 'scheduling',
        power_state: 0,
        ports: [],
        addresses: {},
        locked_by: null,
        locked_reason: null,
        tags,
        created_at: created,
        updated_at: created,
        launched_at: null,
        fault: null,
        access_ip_v4: typeof s['accessIPv4'] === 'string' ? s['accessIPv4'] : '',
        access_ip_v6: typeof s['accessIPv6'] === 'string' ? s['accessIPv6'] : '',
        ...(group ? { server_group: group.uuid } : {}),
        ...(placeZone !== undefined ? { requested_availability_zone: placeZone } : {}),
      };
      const build: BuildRequest = {
        server: uuid,
        token: token(req),
        requestId,
        claim: { instanceUuid: uuid, resources: claimResources },
        imageProperties: meta.properties,
        ...(placeZone !== undefined ? { availabilityZone: placeZone } : {}),
        ...(forcedHost !== undefined ? { forcedHost } : {}),
        ...(requestedHost !== undefined ? { requestedHost } : {}),
        ...(group ? { group: group.uuid } : {}),
        createdMs: now,
      };
      if (checked.length > 0) await store.records.put(T.blockDevices, uuid, { server: uuid, mappings: bootMappings(checked, attachments, record, created, meta.imageId) });
      // The build request first: a server record without one and without a host is never left.
      await store.records.put(T.buildRequests, uuid, build);
      await indexServer(store, record);
      await store.records.create(T.servers, uuid, record);
      await recordAction(store, c, uuid, 'create', requestId);
      builds.push(build);
      servers.push(record);
    }
    await placeBuilds(store, d.hosts, builds, d.logger);
    const first = servers[0] as ServerRecord;
    if (s['return_reservation_id'] === true || s['return_reservation_id'] === 'True') return ok({ reservation_id: reservation }, 202);
    const answer: JsonObject = { id: first.uuid, links: serverBasic(req, first)['links'], 'OS-DCF:diskConfig': 'MANUAL', security_groups: securityGroups.map((n) => ({ name: n })), adminPass: typeof s['adminPass'] === 'string' ? s['adminPass'] : randomBytes(9).toString('base64url').slice(0, 12) };
    return ok({ server: answer }, 202, { Location: `${req.base}/v2.1/servers/${first.uuid}` });
  };

  const list = async (req: ComputeRequest, detail: boolean): Promise<ComputeResponse> => {
    const c = contextOf(req);
    const q = req.query;
    const allTenants = c.isAdmin && q.has('all_tenants') && !['0', 'false', 'False'].includes(q.get('all_tenants') as string);
    const project = c.isAdmin ? (q.get('project_id') ?? q.get('tenant_id') ?? (allTenants ? undefined : c.projectId)) : c.projectId;
    const tests: ((s: ServerRecord) => boolean)[] = [(s) => project === undefined || s.project_id === project];
    const status = q.get('status');
    if (status !== null) {
      if (!STATUS_TO_VM_STATES[status.toUpperCase()]) throw badRequest('Invalid status value');
      tests.push((s) => serverStatus(s.vm_state, s.task_state) === status.toUpperCase());
    }
    const name = q.get('name');
    if (name !== null) {
      let re: RegExp;
      try {
        re = new RegExp(name);
      } catch {
        re = new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      }
      tests.push((s) => re.test(s.name));
    }
    const image = q.get('image');
    if (image !== null) tests.push((s) => s.image_ref === image);
    const flavor = q.get('flavor');
    if (flavor !== null) tests.push((s) => s.flavor.flavorid === flavor);
    const reservation = q.get('reservation_id');
    if (reservation !== null) tests.push((s) => s.reservation_id === reservation);
    const host = q.get('host');
    if (host !== null && c.isAdmin) tests.push((s) => s.host === host);
    const ip = q.get('ip');
    if (ip !== null) tests.push((s) => Object.values(s.addresses).some((as) => as.some((a) => a.version === 4 && a.addr.includes(ip))));
    const changesSince = q.get('changes-since');
    if (changesSince !== null) {
      const t = Date.parse(changesSince);
      if (Number.isNaN(t)) throw badRequest('The value of changes-since must be an ISO 8601 formatted timestamp.');
      tests.push((s) => Date.parse(s.updated_at) >= t);
    }
    if (atLeast(req.version, '2.26')) {
      // Nova's tag filters: all of, any of, not all of, none of (each a comma-separated list).
      const list = (k: string) => q.get(k)?.split(',').filter((t) => t !== '');
      const all = list('tags');
      if (all) tests.push((s) => all.every((t) => s.tags.includes(t)));
      const any = list('tags-any');
      if (any) tests.push((s) => any.some((t) => s.tags.includes(t)));
      const notAll = list('not-tags');
      if (notAll) tests.push((s) => !notAll.every((t) => s.tags.includes(t)));
      const none = list('not-tags-any');
      if (none) tests.push((s) => !none.some((t) => s.tags.includes(t)));
    }
    const matches = (s: ServerRecord) => tests.every((t) => t(s));
    const sortKey = q.get('sort_key') ?? 'created_at';
    const sortDir = q.get('sort_dir') ?? 'desc';
    const keyOf: Record<string, (s: ServerRecord) => string | number> = { created_at: (s) => s.created_at, updated_at: (s) => s.updated_at, display_name: (s) => s.name, uuid: (s) => s.uuid, vm_state: (s) => s.vm_state, task_state: (s) => s.task_state ?? '', power_state: (s) => s.power_state, launched_at: (s) => s.launched_at ?? '', hostname: (s) => s.hostname, key_name: (s) => s.key_name ?? '', project_id: (s) => s.project_id, user_id: (s) => s.user_id };
    const key = keyOf[sortKey];
    if (!key) throw badRequest(`Invalid input for query parameters sort_key. Value: ${sortKey}. ${pyRepr(sortKey)} is not one of ${pyRepr(Object.keys(keyOf))}`);
    const limitText = q.get('limit');
    let limit = MAX_LIMIT;
    if (limitText !== null) {
      if (!/^[0-9]+$/.test(limitText)) throw badRequest(`Invalid input for query parameters limit. Value: ${limitText}. ${pyRepr(limitText)} does not match '^[0-9]*$'`);
      limit = Math.min(MAX_LIMIT, Number(limitText));
    }
    const marker = q.get('marker');
    let page: ServerRecord[];
    if (sortKey === 'created_at' && sortDir === 'desc') {
      // Nova's default order is the index's: a page is read from the marker on, not every server.
      let after: string | undefined;
      if (marker !== null) {
        const m = UUID_LIKE.test(marker) ? await store.get<ServerRecord>(T.servers, marker) : undefined;
        if (!m || (project !== undefined && m.project_id !== project)) throw badRequest(`marker [${marker}] not found`);
        after = serverOrderKey(m);
      }
      page = [];
      if (limit > 0) {
        for await (const s of serversInOrder(store, project, after, limit)) {
          if (!matches(s)) continue;
          page.push(s);
          if (page.length === limit) break;
        }
      }
    } else {
      let servers = (await store.scan<ServerRecord>(T.servers)).filter(matches);
      const dir = sortDir === 'asc' ? 1 : -1;
      servers.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        if (x !== y) return (x < y ? -1 : 1) * dir;
        return (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0) * dir;
      });
      if (marker !== null) {
        const at = servers.findIndex((s) => s.uuid === marker);
        if (at < 0) throw badRequest(`marker [${marker}] not found`);
        servers = servers.slice(at + 1);
      }
      page = servers.slice(0, limit);
    }
    const statuses = detail && atLeast(req.version, '2.16') ? await hostStatuses(store, c, page) : undefined;
    const volumes = detail ? await Promise.all(page.map((s) => volumesOf(store, s))) : [];
    const out: JsonObject = { servers: page.map((s, i) => (detail ? serverDetail(req, s, c.isAdmin, { hostStatus: statuses?.get(s.uuid), volumes: volumes[i] }) : serverBasic(req, s))) };
    if (page.length > 0 && page.length === limit) {
      out['servers_links'] = [nextLink(req, detail ? 'servers/detail' : 'servers', (page.at(-1) as ServerRecord).uuid)];
    }
    return ok(out);
  };

  return [
    { method: 'POST', path: '/v2.1/servers', auth: 'token', handler: create },
    { method: 'GET', path: '/v2.1/servers', auth: 'token', handler: (req) => list(req, false) },
    { method: 'GET', path: '/v2.1/servers/detail', auth: 'token', handler: (req) => list(req, true) },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        const c = contextOf(req);
        return ok({ server: serverDetail(req, s, c.isAdmin, { groups: true, hostStatus: await hostStatusShown(store, req, s), volumes: await volumesOf(store, s) }) });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/servers/{server_id}',
      auth: 'token',
      handler: async (req) => {
        const c = contextOf(req);
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        const allowed = ['name', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', ...(atLeast(req.version, '2.19') ? ['description'] : []), ...(atLeast(req.version, '2.90') ? ['hostname'] : [])];
        const u = bodyMember(req.body, 'server', allowed);
        const changes: Partial<{ -readonly [K in keyof ServerRecord]: ServerRecord[K] }> = {};
        if (u['name'] !== undefined) changes.name = nameParam('name', u['name']);
        if (u['description'] !== undefined) changes.description = u['description'] === null ? null : String(u['description']);
        if (typeof u['accessIPv4'] === 'string') changes.access_ip_v4 = u['accessIPv4'];
        if (typeof u['accessIPv6'] === 'string') changes.access_ip_v6 = u['accessIPv6'];
        if (typeof u['hostname'] === 'string') changes.hostname = u['hostname'];
        const updated = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => ({ ...cur.value, ...changes, updated_at: store.isoSeconds() }));
        if (!updated) throw notFound(`Instance ${s.uuid} could not be found.`);
        // 2.75: PUT answers with the same view as GET, host_status included.
        return ok({ server: serverDetail(req, updated.value, c.isAdmin, { groups: true, hostStatus: atLeast(req.version, '2.75') ? await hostStatusShown(store, req, updated.value) : undefined, volumes: await volumesOf(store, updated.value) }) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/servers/{server_id}',
      auth: 'token',
      handler: async (req) => {
        const c = contextOf(req);
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        checkLock(c, s);
        await deleteServer(d, s, token(req), req.requestId);
        return NO_CONTENT;
      },
    },
  ];
}

/**
 * The new server's block-devices record: the root volume `/dev/vda` (boot index 0), the others
 * the next free virtio names, as Nova's libvirt driver names them; an existing volume with its
 * reservation, one compute makes (image, snapshot, blank) with its source, made at the build.
 */
function bootMappings(checked: readonly CheckedMapping[], attachments: ReadonlyMap<string, string>, server: Pick<ServerRecord, 'flavor' | 'local_disks'>, created: string, imageId: string | undefined): BlockDeviceMapping[] {
  const out: BlockDeviceMapping[] = [];
  const ordered = [...checked].sort((a, b) => (a.request.bootIndex === 0 ? -1 : b.request.bootIndex === 0 ? 1 : 0));
  for (const m of ordered) {
    const root = m.request.bootIndex === 0;
    out.push({
      uuid: randomUUID(),
      volume_id: m.volume?.id ?? '',
      ...(root ? { boot_index: 0, ...(imageId !== undefined ? { image_id: imageId } : {}) } : {}),
      ...(m.source ? { source: m.source } : {}),
      device_name: root ? '/dev/vda' : nextDeviceName(server, out),
      tag: m.request.tag,
      delete_on_termination: m.request.deleteOnTermination,
      attachment_id: m.volume ? (attachments.get(m.volume.id) ?? null) : null,
      attached: false,
      created_at: created,
    });
  }
  return out;
}

/** The `group` scheduler hint: a server group's UUID (Nova's schema also takes a list of them; the first is used). */
function groupHint(hints: unknown): string | undefined {
  if (!isObject(hints) || hints['group'] === undefined) return undefined;
  const raw = hints['group'];
  const id = Array.isArray(raw) ? raw[0] : raw;
  if (typeof id !== 'string' || !UUID_LIKE.test(id)) throw fieldError('group', raw, `${pyRepr(raw)} is not valid under any of the given schemas`);
  return id;
}

/**
 * Adds the new servers to the group's members, within `server_group_members`, in one
 * compare-and-swap on the group's record, so two boots into one group cannot both take its last place.
 * @throws {NovaError} 403 (Nova's OverQuota), 400 when the group was deleted meanwhile.
 */
async function joinGroup(store: ComputeStore, group: string, servers: readonly string[], limit: number): Promise<void> {
  let over = false;
  const joined = await updateRecord<ServerGroupRecord>(store.records, T.serverGroups, group, (cur) => {
    over = limit >= 0 && cur.value.members.length + servers.length > limit;
    return over ? undefined : { ...cur.value, members: [...cur.value.members, ...servers] };
  });
  if (over) throw overQuota('Quota exceeded, too many servers in group');
  if (!joined) throw badRequest(`Instance group ${group} could not be found.`);
}

/**
 * Where a boot may go, as Nova's create parses it: `availability_zone` with an admin's legacy
 * `zone:host`, `zone:host:node` or `zone::node` (a forced host; the zone kept only when it is
 * the host's, Nova's fix for bug #1934770), and from 2.74 an admin's `host` and
 * `hypervisor_hostname` (one node per host here), which must name a compute host (400) and not
 * come with a forced one.
 */
async function destinationOf(d: ServerApiDeps, c: ComputeContext, s: JsonObject): Promise<{ zone?: string; forcedHost?: string; requestedHost?: string }> {
  const text = s['availability_zone'] === undefined || s['availability_zone'] === null ? undefined : String(s['availability_zone']);
  let zone: string | undefined = text;
  let forced: string | undefined;
  if (text?.includes(':')) {
    const parts = text.split(':');
    if (parts.length > 3) throw badRequest('Invalid input received: Unable to parse availability_zone');
    zone = parts[0];
    // `zone:host`, `zone:host:node`, `zone::node`: one node per host, so the node names the host.
    forced = (parts.length === 3 && parts[2] !== '' ? parts[2] : parts[1]) || undefined;
    if (!c.isAdmin) throw policyForbidden('os_compute_api:servers:create:forced_host');
  }
  if (zone === '') zone = undefined;
  const hosts = await d.hosts.all();
  if (forced !== undefined) {
    const host = hosts.find((h) => h.host === forced);
    if (zone !== undefined && host?.availabilityZone !== zone) zone = undefined;
  }
  const asked = [s['host'], s['hypervisor_hostname']].filter((x) => x !== undefined);
  if (asked.length === 0) return { ...(zone !== undefined ? { zone } : {}), ...(forced !== undefined ? { forcedHost: forced } : {}) };
  const host = s['host'] === undefined ? undefined : fqdnParam('host', s['host']);
  const node = s['hypervisor_hostname'] === undefined ? undefined : fqdnParam('hypervisor_hostname', s['hypervisor_hostname']);
  if (!c.isAdmin) throw policyForbidden('compute:servers:create:requested_destination');
  if (forced !== undefined) throw badRequest('One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.');
  if (host !== undefined && !hosts.some((h) => h.host === host)) throw badRequest(`Compute host ${host} could not be found.`);
  if (node !== undefined && !hosts.some((h) => h.host === node)) throw badRequest(`Compute node ${node} could not be found.`);
  if (host !== undefined && node !== undefined && host !== node) throw badRequest(`Compute node ${node} could not be found.`);
  return { ...(zone !== undefined ? { zone } : {}), requestedHost: (host ?? node) as string };
}

/** Nova's lock check: a locked server is changed only by an admin (`InstanceIsLocked`, 409). */
export function checkLock(c: ComputeContext, s: ServerRecord): void {
  if (s.locked_by !== null && !c.isAdmin) throw new NovaError(409, `Instance ${s.uuid} is locked`);
}

/** A server's ports at a delete without its host: deleted if compute made them, unbound and given back if the user brought them. */
async function releasePorts(d: ServerApiDeps, s: ServerRecord, userToken: string): Promise<void> {
  for (const p of s.ports) {
    if (p.created) await d.networks.deletePort(userToken, p.portId);
    else await d.networks.updatePort(d.service ? await d.service.token() : userToken, p.portId, UNBIND_FIELDS).catch(() => undefined);
  }
}

/**
 * Delete: a server on a host is handed to its agent (`task_state` deleting), which tears the
 * domain and ports down, gives the claim back and removes the record. One never placed (no
 * host) is removed here with its build request; one whose host is down is deleted here too
 * (Nova's local delete): its ports deleted or unbound, the claim given back, the record
 * removed; the domain, if the host comes back, is the host's to clean up.
 */
export async function deleteServer(d: ServerApiDeps, s: ServerRecord, userToken: string, requestId: string): Promise<void> {
  const { store } = d;
  // Nova's `_delete`: a shelved server's snapshot goes first (one already gone is fine).
  if (s.shelved !== undefined && (s.vm_state === 'shelved' || s.vm_state === 'shelved_offloaded')) {
    await d.images.delete(userToken, s.shelved.image_id).catch((err) => d.logger.warn('shelved image not deleted', { server: s.uuid, image: s.shelved?.image_id, err }));
  }
  if (s.host === null) {
    // A server offloaded from its host still has its ports (one never placed has none).
    await releasePorts(d, s, userToken);
    await store.records.delete(T.buildRequests, s.uuid);
    // A boot from volume that was never placed still holds its volumes' reservations.
    if (d.volumes && (s.volume_mappings || s.volume_backed)) await releaseVolumes(store, d.volumes, userToken, s.uuid, d.logger);
    await recordTermination(store, s);
    await store.records.delete(T.servers, s.uuid);
    await unindexServer(store, s);
    await leaveGroup(store, s.server_group, s.uuid);
    return;
  }
  const host = await store.get<ComputeHostRecord>(T.hosts, s.host);
  if (!host || !isServiceUp(host, store.clock.now())) {
    await releasePorts(d, s, userToken);
    if (host) {
      await releaseOn(d.hosts, s.host, ...serverClaims(s));
    }
    if (d.volumes) await releaseVolumes(store, d.volumes, userToken, s.uuid, d.logger);
    await recordTermination(store, s);
    await store.records.delete(T.servers, s.uuid);
    await unindexServer(store, s);
    await leaveGroup(store, s.server_group, s.uuid);
    return;
  }
  const marked = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => (cur.value.task_state === 'deleting' ? undefined : { ...cur.value, task_state: 'deleting', updated_at: store.isoSeconds() }));
  if (!marked) return;
  await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'delete', token: userToken, requestId });
}
