import type { Clock } from '../common/clock.ts';
import { fernetEncrypt } from '../common/token/fernet.ts';
import type { FernetKeys } from '../common/token/key-repository.ts';
import { isoMicro, tokenFacts } from '../common/token/revocation.ts';
import { encodeTokenPayload, newAuditId, type TokenPayload, type TokenRole, type TokenScope } from '../common/token/token-payload.ts';
import { TokenRefusedError, type TokenValidator, type ValidatedToken } from '../common/token/token-validator.ts';
import type { RoleResolver } from './assignments.ts';
import { buildCatalog } from './catalog.ts';
import { unauthorized, validationError } from './errors.ts';
import { verifyPassword } from './password-hash.ts';
import type { ApplicationCredentialRecord, AssignmentTarget, DomainRecord, ProjectRecord, RoleRecord, ServiceProviderRecord, UserRecord } from './records.ts';
import { ReadMemo } from './read-memo.ts';
import type { Revocations } from './revocations.ts';
import { type IdentityStore, T } from './store.ts';
import { isObject, type Json } from './validation.ts';

/** A token and everything its rendering names. */
export interface TokenView {
  readonly token: string;
  readonly payload: TokenPayload;
  readonly issuedAt: number;
  readonly user: UserRecord;
  readonly userDomain: DomainRecord;
  readonly project?: ProjectRecord;
  readonly projectDomain?: DomainRecord;
  readonly domain?: DomainRecord;
  readonly appCred?: ApplicationCredentialRecord;
  /** The catalog, when it was read while the token was made (it does not depend on the user). */
  readonly catalog?: Promise<Json[]>;
}

export interface TokenIssuerDeps {
  readonly store: IdentityStore;
  readonly resolver: RoleResolver;
  readonly keys: FernetKeys;
  readonly validator: TokenValidator;
  readonly revocations: Revocations;
  readonly clock: Clock;
  /** Seconds a new token is valid. */
  readonly expirationSeconds: number;
}

/** Keystone's message when a section of the auth request lacks what it needs. */
const expecting = (attribute: string, target: string): Error =>
  validationError(`Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);

/**
 * `POST /v3/auth/tokens` (keystone/auth/): the password, token and application_credential
 * methods; unscoped, project-, domain- and system-scoped tokens; a user's default project when
 * no scope is asked for. Every refusal of who the caller is or what they may scope to is the
 * same 401, so nothing tells a guesser which part was wrong.
 */
export class TokenIssuer {
  private readonly deps: TokenIssuerDeps;

  constructor(deps: TokenIssuerDeps) {
    this.deps = deps;
  }

  async authenticate(body: unknown): Promise<TokenView> {
    const memo = new ReadMemo(this.deps.store);
    const auth = isObject(body) ? body['auth'] : undefined;
    if (!isObject(auth)) throw validationError("'auth' is a required property");
    const identity = auth['identity'];
    if (!isObject(identity)) throw validationError("'identity' is a required property");
    const methods = identity['methods'];
    if (!Array.isArray(methods) || !methods.every((m) => typeof m === 'string')) throw validationError("'methods' is a required property");
    const scope = this.parseScope(auth['scope']);

    if (methods.includes('token')) {
      const section = identity['token'];
      if (!isObject(section) || typeof section['id'] !== 'string') throw validationError("'id' is a required property");
      return this.fromToken(memo, section['id'], scope);
    }
    if (methods.includes('application_credential')) {
      if (scope !== undefined) throw unauthorized();
      return this.fromApplicationCredential(memo, identity['application_credential']);
    }
    if (methods.includes('password')) {
      // The scope's records are read while the password is checked.
      const prefetch = scope ? this.prefetchScope(memo, scope) : Promise.resolve();
      const user = await this.checkPassword(memo, identity['password']);
      await prefetch;
      return this.issue(memo, user, ['password'], scope ?? (await this.defaultScope(memo, user)), { auditIds: [newAuditId()] });
    }
    throw unauthorized();
  }

  /** The view of a token being validated: its user and scope must still be there and enabled. */
  async describe(token: string, validated: ValidatedToken): Promise<TokenView | undefined> {
    const memo = new ReadMemo(this.deps.store);
    const scope = validated.scope;
    const userOf = async (): Promise<[UserRecord, DomainRecord] | undefined> => {
      const user = await memo.get<UserRecord>(T.users, validated.userId);
      const domain = user && (await memo.get<DomainRecord>(T.domains, user.domain_id));
      return user?.enabled && domain?.enabled ? [user, domain] : undefined;
    };
    const projectOf = async (projectId: string): Promise<[ProjectRecord, DomainRecord] | undefined> => {
      const project = await memo.get<ProjectRecord>(T.projects, projectId);
      const domain = project && (await memo.get<DomainRecord>(T.domains, project.domain_id));
      return project?.enabled && domain?.enabled ? [project, domain] : undefined;
    };
    const [owner, project, domain, appCred] = await Promise.all([
      userOf(),
      scope.kind === 'project' ? projectOf(scope.projectId) : undefined,
      scope.kind === 'domain' ? memo.get<DomainRecord>(T.domains, scope.domainId) : undefined,
      validated.applicationCredentialId === undefined ? undefined : memo.get<ApplicationCredentialRecord>(T.appCreds, validated.applicationCredentialId),
    ]);
    if (!owner) return undefined;
    const view = { token, payload: validated, issuedAt: validated.issuedAt, user: owner[0], userDomain: owner[1] };
    if (scope.kind === 'project') {
      if (!project || (validated.applicationCredentialId !== undefined && !appCred)) return undefined;
      return { ...view, project: project[0], projectDomain: project[1], ...(appCred ? { appCred } : {}) };
    }
    if (scope.kind === 'domain') return domain?.enabled ? { ...view, domain } : undefined;
    return view;
  }

  /** Keystone's token body; the catalog unless `nocatalog` (or the token is unscoped). */
  async render(view: TokenView, options: { catalog: boolean }): Promise<Json> {
    const p = view.payload;
    const token: Json = {
      methods: [...p.methods],
      user: { domain: { id: view.userDomain.id, name: view.userDomain.name }, id: view.user.id, name: view.user.name, password_expires_at: null },
      audit_ids: [...p.auditIds],
      expires_at: isoMicro(p.expiresAt),
      issued_at: isoMicro(view.issuedAt),
    };
    const scope = p.scope;
    if (scope.kind === 'project' && view.project && view.projectDomain) {
      token['project'] = { domain: { id: view.projectDomain.id, name: view.projectDomain.name }, id: view.project.id, name: view.project.name };
      token['is_domain'] = false;
    } else if (scope.kind === 'domain' && view.domain) {
      token['domain'] = { id: view.domain.id, name: view.domain.name };
    } else if (scope.kind === 'system') {
      token['system'] = { all: true };
    }
    if (scope.kind !== 'unscoped') {
      token['roles'] = p.roles.map((r) => ({ id: r.id, name: r.name }));
      if (options.catalog) token['catalog'] = await (view.catalog ?? buildCatalog(this.deps.store, scope.kind === 'project' ? scope.projectId : undefined));
    }
    if (view.appCred) token['application_credential'] = { id: view.appCred.id, name: view.appCred.name, restricted: view.appCred.unrestricted !== true };
    // Keystone lists the enabled OS-FEDERATION service providers in every token, when there are any.
    const sps = (await this.deps.store.scan<ServiceProviderRecord>(T.serviceProviders)).filter((sp) => sp.enabled);
    if (sps.length > 0) token['service_providers'] = sps.map((sp) => ({ auth_url: sp.auth_url, id: sp.id, sp_url: sp.sp_url }));
    return { token };
  }

  private async checkPassword(memo: ReadMemo, section: unknown): Promise<UserRecord> {
    if (!isObject(section) || !isObject(section['user'])) throw expecting('user', 'password');
    const spec = section['user'];
    const password = spec['password'];
    const user = await this.findUser(memo, spec);
    const domain = user && memo.get<DomainRecord>(T.domains, user.domain_id);
    if (typeof password !== 'string' || !user?.password_hash || !(await verifyPassword(password, user.password_hash))) throw unauthorized();
    await domain;
    await this.requireEnabledUser(memo, user);
    return user;
  }

  /** Starts reading what a requested scope names, so it is there when the scope is resolved. */
  private async prefetchScope(memo: ReadMemo, scope: RequestedScope): Promise<void> {
    try {
      if ('project' in scope) {
        const project = await this.findProject(memo, scope.project);
        if (project) await memo.get<DomainRecord>(T.domains, project.domain_id);
      } else if ('domain' in scope) {
        await this.findDomain(memo, scope.domain);
      }
    } catch {
      // A malformed scope fails again, in order, where it is resolved.
    }
  }

  /** A user by `id`, or by `name` and `domain` (`id` or `name`); undefined when there is none. */
  private async findUser(memo: ReadMemo, spec: Json): Promise<UserRecord | undefined> {
    if (typeof spec['id'] === 'string') return memo.get<UserRecord>(T.users, spec['id']);
    if (typeof spec['name'] !== 'string') throw expecting('id or name', 'user');
    if (!isObject(spec['domain'])) throw expecting('domain', 'user');
    // By domain id the user's name index is read at once, not after the domain.
    if (typeof spec['domain']['id'] === 'string') return memo.byName<UserRecord>(T.users, T.userNames, `${spec['domain']['id']}/${spec['name']}`);
    const domain = await this.findDomain(memo, spec['domain']);
    return domain && memo.byName<UserRecord>(T.users, T.userNames, `${domain.id}/${spec['name']}`);
  }

  private async findDomain(memo: ReadMemo, spec: Json): Promise<DomainRecord | undefined> {
    if (typeof spec['id'] === 'string') return memo.get<DomainRecord>(T.domains, spec['id']);
    if (typeof spec['name'] === 'string') return memo.byName<DomainRecord>(T.domains, T.domainNames, spec['name']);
    throw expecting('id or name', 'domain');
  }

  private async requireEnabledUser(memo: ReadMemo, user: UserRecord): Promise<DomainRecord> {
    const domain = await memo.get<DomainRecord>(T.domains, user.domain_id);
    if (!user.enabled || !domain?.enabled) throw unauthorized();
    return domain;
  }

  private parseScope(scope: unknown): RequestedScope | undefined {
    if (scope === undefined || scope === null) return undefined;
    if (scope === 'unscoped') return undefined;
    if (!isObject(scope)) throw validationError("Invalid input for field 'scope': not an object");
    const kinds = ['project', 'domain', 'system', 'OS-TRUST:trust'].filter((k) => scope[k] !== undefined);
    if (kinds.length > 1) throw validationError('Specify either domain, project or system scope, not more than one.');
    if (isObject(scope['project'])) return { project: scope['project'] };
    if (isObject(scope['domain'])) return { domain: scope['domain'] };
    if (isObject(scope['system'])) {
      if (scope['system']['all'] !== true) throw unauthorized();
      return { system: true };
    }
    if (kinds.length === 0) return undefined;
    throw unauthorized();
  }

  /** The user's default project when they still have a role there; else no scope (Keystone's rule). */
  private async defaultScope(memo: ReadMemo, user: UserRecord): Promise<RequestedScope | undefined> {
    if (user.default_project_id === undefined) return undefined;
    const project = await memo.get<ProjectRecord>(T.projects, user.default_project_id);
    if (!project?.enabled) return undefined;
    const roles = await this.deps.resolver.effectiveRoles(user.id, { project: project.id });
    return roles.length > 0 ? { project: { id: project.id } } : undefined;
  }

  private async fromToken(memo: ReadMemo, id: string, scope: RequestedScope | undefined): Promise<TokenView> {
    let parent: ValidatedToken;
    try {
      parent = this.deps.validator.validate(id);
    } catch (err) {
      if (err instanceof TokenRefusedError) throw unauthorized();
      throw err;
    }
    // Keystone does not let an application credential's token be turned into another one.
    if (parent.applicationCredentialId !== undefined) throw unauthorized();
    const prefetch = scope ? this.prefetchScope(memo, scope) : Promise.resolve();
    const user = await memo.get<UserRecord>(T.users, parent.userId);
    if (!user) throw unauthorized();
    await this.requireEnabledUser(memo, user);
    await prefetch;
    const methods = [...new Set([...parent.methods, 'token'])].sort((a, b) => order(a) - order(b));
    const chain = parent.auditIds[1] ?? (parent.auditIds[0] as string);
    return this.issue(memo, user, methods, scope, { auditIds: [newAuditId(), chain], expiresAt: parent.expiresAt });
  }

  private async fromApplicationCredential(memo: ReadMemo, section: unknown): Promise<TokenView> {
    if (!isObject(section)) throw expecting('application_credential', 'identity');
    const secret = section['secret'];
    if (typeof secret !== 'string') throw expecting('secret', 'application_credential');
    let appCred: ApplicationCredentialRecord | undefined;
    if (typeof section['id'] === 'string') {
      appCred = await memo.get<ApplicationCredentialRecord>(T.appCreds, section['id']);
    } else if (typeof section['name'] === 'string' && isObject(section['user'])) {
      const owner = await this.findUser(memo, section['user']);
      appCred = owner && (await memo.byName<ApplicationCredentialRecord>(T.appCreds, T.appCredNames, `${owner.id}/${section['name']}`));
    } else {
      throw expecting('id or name and user', 'application_credential');
    }
    if (!appCred || !(await verifyPassword(secret, appCred.secret_hash))) throw unauthorized();
    if (appCred.expires_at !== null && Date.parse(appCred.expires_at) <= this.deps.clock.now()) throw unauthorized();
    const user = await memo.get<UserRecord>(T.users, appCred.user_id);
    if (!user) throw unauthorized();
    await this.requireEnabledUser(memo, user);
    const expiresAt = appCred.expires_at === null ? undefined : Date.parse(appCred.expires_at);
    return this.issue(memo, user, ['application_credential'], { project: { id: appCred.project_id } }, { auditIds: [newAuditId()], ...(expiresAt !== undefined ? { expiresAt } : {}), appCred });
  }

  /** Resolves the scope, computes the roles, and makes the token. */
  private async issue(memo: ReadMemo, user: UserRecord, methods: string[], requested: RequestedScope | undefined, options: { auditIds: string[]; expiresAt?: number; appCred?: ApplicationCredentialRecord }): Promise<TokenView> {
    const userDomain = await this.requireEnabledUser(memo, user);
    const now = this.deps.clock.now();
    let expiresAt = Math.floor(now / 1000) * 1000 + this.deps.expirationSeconds * 1000;
    if (options.expiresAt !== undefined) expiresAt = Math.min(expiresAt, Math.floor(options.expiresAt / 1000) * 1000);
    let scope: TokenScope = { kind: 'unscoped' };
    let roles: RoleRecord[] = [];
    const found: { project?: ProjectRecord; projectDomain?: DomainRecord; domain?: DomainRecord } = {};
    let catalog: Promise<Json[]> | undefined;
    if (requested && 'project' in requested) {
      const project = await this.findProject(memo, requested.project);
      const projectDomain = project && (await memo.get<DomainRecord>(T.domains, project.domain_id));
      if (!project?.enabled || !projectDomain?.enabled) throw unauthorized();
      catalog = this.prefetchCatalog(project.id);
      roles = await this.rolesOn(user.id, { project: project.id });
      scope = { kind: 'project', projectId: project.id, domainId: project.domain_id };
      Object.assign(found, { project, projectDomain });
    } else if (requested && 'domain' in requested) {
      const domain = await this.findDomain(memo, requested.domain);
      if (!domain?.enabled) throw unauthorized();
      catalog = this.prefetchCatalog(undefined);
      roles = await this.rolesOn(user.id, { domain: domain.id });
      scope = { kind: 'domain', domainId: domain.id };
      found.domain = domain;
    } else if (requested && 'system' in requested) {
      catalog = this.prefetchCatalog(undefined);
      roles = await this.rolesOn(user.id, { system: 'all' });
      scope = { kind: 'system' };
    }
    if (options.appCred) {
      const delegated = new Set(options.appCred.role_ids);
      roles = roles.filter((r) => delegated.has(r.id));
      if (roles.length === 0) throw unauthorized();
    }
    const payload: TokenPayload = {
      userId: user.id,
      userDomainId: user.domain_id,
      methods,
      scope,
      expiresAt,
      auditIds: options.auditIds,
      roles: roles.map((r): TokenRole => ({ id: r.id, name: r.name })),
      ...(options.appCred ? { applicationCredentialId: options.appCred.id } : {}),
    };
    const issuedAt = await this.afterRevocations(payload);
    const token = fernetEncrypt(this.deps.keys.keys[0] as Buffer, encodeTokenPayload(payload), issuedAt / 1000);
    return { token, payload, issuedAt, user, userDomain, ...found, ...(options.appCred ? { appCred: options.appCred } : {}), ...(catalog ? { catalog } : {}) };
  }

  /** The catalog, read alongside the roles; a failure surfaces when (if) it is rendered. */
  private prefetchCatalog(projectId: string | undefined): Promise<Json[]> {
    const catalog = buildCatalog(this.deps.store, projectId);
    catalog.catch(() => undefined);
    return catalog;
  }

  /** The roles on a scope; none is a 401 (a user may only scope to where they have a role). */
  private async rolesOn(userId: string, target: AssignmentTarget): Promise<RoleRecord[]> {
    const roles = await this.deps.resolver.effectiveRoles(userId, target);
    if (roles.length === 0) throw unauthorized();
    return roles;
  }

  private async findProject(memo: ReadMemo, spec: Json): Promise<ProjectRecord | undefined> {
    if (typeof spec['id'] === 'string') return memo.get<ProjectRecord>(T.projects, spec['id']);
    if (typeof spec['name'] !== 'string') throw expecting('id or name', 'project');
    if (!isObject(spec['domain'])) throw expecting('domain', 'project');
    if (typeof spec['domain']['id'] === 'string') return memo.byName<ProjectRecord>(T.projects, T.projectNames, `${spec['domain']['id']}/${spec['name']}`);
    const domain = await this.findDomain(memo, spec['domain']);
    return domain && memo.byName<ProjectRecord>(T.projects, T.projectNames, `${domain.id}/${spec['name']}`);
  }

  /**
   * The issue time (whole seconds, as the token carries it): now, unless an event written this
   * second would revoke the new token (events have second resolution, as in Keystone), in which
   * case the token waits for the next second rather than being born revoked.
   */
  private async afterRevocations(payload: TokenPayload): Promise<number> {
    let issuedAt = Math.floor(this.deps.clock.now() / 1000) * 1000;
    if (this.deps.revocations.list.revoked(tokenFacts(payload, issuedAt))) {
      await this.deps.clock.sleep(issuedAt + 1000 - this.deps.clock.now());
      issuedAt += 1000;
    }
    return issuedAt;
  }
}

type RequestedScope = { readonly project: Json } | { readonly domain: Json } | { readonly system: true };

const METHOD_ORDER = ['external', 'password', 'token', 'oauth1', 'mapped', 'application_credential'];
const order = (m: string): number => METHOD_ORDER.indexOf(m);
