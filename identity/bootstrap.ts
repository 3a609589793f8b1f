import { createHash } from 'node:crypto';
import { RecordExistsError } from '../client/record-store.ts';
import type { IdentityDeps } from './deps.ts';
import { hashPassword } from './password-hash.ts';
import type { DomainRecord, EndpointInterface, EndpointRecord, ProjectRecord, RegionRecord, RoleRecord, ServiceRecord, UserRecord } from './records.ts';
import { assignmentKey, T } from './store.ts';
import { newId } from './lookup.ts';

/** A catalog entry bootstrap ensures: a service and its endpoint per interface. */
export interface CatalogEntry {
  readonly type: string;
  readonly name: string;
  readonly description: string;
  readonly urls: Readonly<Record<EndpointInterface, string>>;
}

export interface BootstrapOptions {
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly adminProject: string;
  readonly region: string;
  readonly catalog: readonly CatalogEntry[];
  /** The embedded default's non-admin user: a `member` of their own project. */
  readonly demo?: { readonly user: string; readonly password: string; readonly project: string };
  /**
   * The services' own users (devstack's `nova`, `neutron`, `glance`, `cinder`), each with the
   * `admin` and `service` roles on the `service` project: what a service calls another with
   * when the user's token is not enough (Nova binding a port).
   */
  readonly serviceUsers?: readonly { readonly user: string; readonly password: string }[];
}

const META = 'meta';
const DONE = 'bootstrap';
const SERVICE_PROJECT_DESCRIPTION = "Project for the services' own users.";

/**
 * `keystone-manage bootstrap`'s role, run by the service at start: the `Default` domain, the
 * `admin`, `member` and `reader` roles (immutable, admin implies member implies reader), the
 * admin project and user with `admin` on the project and the system, the region, and a catalog
 * entry per service the cluster runs. Users, projects and passwords are made on the first start
 * only (a `meta/bootstrap` record marks it done), so a restart never resets a password an
 * operator changed; catalog entries are ensured on every start, so a service added to the
 * config later appears. Every step is create-if-absent, so identity processes starting together
 * cannot make two of anything.
 */
export async function bootstrap(deps: IdentityDeps, options: BootstrapOptions): Promise<boolean> {
  const store = deps.store;
  await ensureRegion(deps, options.region);
  for (const entry of options.catalog) await ensureCatalogEntry(deps, entry, options.region);
  if (await store.records.get(META, DONE)) {
    await ensureServiceUsers(deps, options.serviceUsers ?? []);
    return false;
  }

  const domain = await ensureNamed<DomainRecord>(deps, T.domains, T.domainNames, 'Default', {
    id: 'default',
    name: 'Default',
    description: 'The default domain',
    enabled: true,
    tags: [],
    options: {},
    extra: {},
  });
  const role = (name: string): Promise<RoleRecord> => ensureNamed<RoleRecord>(deps, T.roles, T.roleNames, name, { id: newId(), name, description: null, options: { immutable: true }, extra: {} });
  const [admin, member, reader] = [await role('admin'), await role('member'), await role('reader')];
  await store.mark(T.implications, `${admin.id}/${member.id}`);
  await store.mark(T.implications, `${member.id}/${reader.id}`);

  const project = (name: string, description: string): Promise<ProjectRecord> =>
    ensureNamed<ProjectRecord>(deps, T.projects, T.projectNames, `${domain.id}/${name}`, { id: newId(), name, domain_id: domain.id, parent_id: domain.id, description, enabled: true, tags: [], options: {}, extra: {} });
  const user = async (name: string, password: string): Promise<UserRecord> =>
    ensureNamed<UserRecord>(deps, T.users, T.userNames, `${domain.id}/${name}`, { id: newId(), name, domain_id: domain.id, enabled: true, password_hash: await hashPassword(password, deps.passwordHashRounds), options: {}, extra: {} });

  const adminProject = await project(options.adminProject, 'Bootstrap project for initializing the cloud.');
  const adminUser = await user(options.adminUser, options.adminPassword);
  await store.mark(T.assignments, assignmentKey({ target: { project: adminProject.id }, actor: { user: adminUser.id }, roleId: admin.id }));
  await store.mark(T.assignments, assignmentKey({ target: { system: 'all' }, actor: { user: adminUser.id }, roleId: admin.id }));
  await project('service', SERVICE_PROJECT_DESCRIPTION);
  if (options.demo) {
    const demoProject = await project(options.demo.project, 'Demo project.');
    const demoUser = await user(options.demo.user, options.demo.password);
    await store.mark(T.assignments, assignmentKey({ target: { project: demoProject.id }, actor: { user: demoUser.id }, roleId: member.id }));
  }
  await store.records.put(META, DONE, { at: deps.clock.now() });
  await ensureServiceUsers(deps, options.serviceUsers ?? []);
  return true;
}

/**
 * Each service user that does not exist yet, with `admin` and `service` on the `service`
 * project; checked on every start, so a cluster bootstrapped before it names a service gets
 * its user, while a user that exists (its password or roles changed by an operator) is left as
 * it is.
 */
async function ensureServiceUsers(deps: IdentityDeps, users: readonly { readonly user: string; readonly password: string }[]): Promise<void> {
  if (users.length === 0) return;
  const domainId = 'default';
  const missing: { user: string; password: string }[] = [];
  for (const u of users) if (!(await deps.store.byName<UserRecord>(T.users, T.userNames, `${domainId}/${u.user}`))) missing.push(u);
  if (missing.length === 0) return;
  const role = (name: string): Promise<RoleRecord> => ensureNamed<RoleRecord>(deps, T.roles, T.roleNames, name, { id: newId(), name, description: null, options: { immutable: true }, extra: {} });
  const [admin, service] = [await role('admin'), await role('service')];
  const project = await ensureNamed<ProjectRecord>(deps, T.projects, T.projectNames, `${domainId}/service`, { id: newId(), name: 'service', domain_id: domainId, parent_id: domainId, description: SERVICE_PROJECT_DESCRIPTION, enabled: true, tags: [], options: {}, extra: {} });
  for (const u of missing) {
    const user = await ensureNamed<UserRecord>(deps, T.users, T.userNames, `${domainId}/${u.user}`, { id: newId(), name: u.user, domain_id: domainId, enabled: true, password_hash: await hashPassword(u.password, deps.passwordHashRounds), options: {}, extra: {} });
    for (const r of [admin, service]) await deps.store.mark(T.assignments, assignmentKey({ target: { project: project.id }, actor: { user: user.id }, roleId: r.id }));
  }
}

/** The record under a unique name, created when there is none (a concurrent creator's wins). */
async function ensureNamed<R extends { readonly id: string }>(deps: IdentityDeps, type: string, nameType: string, nameKey: string, fresh: R): Promise<R> {
  const existing = await deps.store.byName<R>(type, nameType, nameKey);
  if (existing) return existing;
  const lost = new Error('taken');
  try {
    await deps.store.createNamed(type, nameType, nameKey, fresh, () => lost);
    return fresh;
  } catch (err) {
    if (err !== lost && !(err instanceof RecordExistsError)) throw err;
    const winner = await deps.store.byName<R>(type, nameType, nameKey);
    if (!winner) throw err;
    return winner;
  }
}

async function ensureRegion(deps: IdentityDeps, id: string): Promise<void> {
  const region: RegionRecord = { id, description: '', parent_region_id: null, extra: {} };
  await createIfAbsent(deps, T.regions, region);
}

/** A service and its endpoints under ids derived from what they are, so ensuring twice makes one. */
async function ensureCatalogEntry(deps: IdentityDeps, entry: CatalogEntry, region: string): Promise<void> {
  const serviceId = stableId(`service/${entry.type}/${entry.name}`);
  const service: ServiceRecord = { id: serviceId, type: entry.type, name: entry.name, description: entry.description, enabled: true, extra: {} };
  await createIfAbsent(deps, T.services, service);
  for (const [iface, url] of Object.entries(entry.urls) as [EndpointInterface, string][]) {
    const endpoint: EndpointRecord = { id: stableId(`endpoint/${serviceId}/${iface}/${region}`), service_id: serviceId, interface: iface, url, region_id: region, enabled: true, extra: {} };
    await createIfAbsent(deps, T.endpoints, endpoint);
  }
}

async function createIfAbsent(deps: IdentityDeps, type: string, record: { readonly id: string }): Promise<void> {
  try {
    await deps.store.create(type, record);
  } catch (err) {
    if (!(err instanceof RecordExistsError)) throw err;
  }
}

function stableId(what: string): string {
  return createHash('md5').update(`swiftlet-bootstrap/${what}`).digest('hex');
}
