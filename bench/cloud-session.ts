import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * A Keystone v3 login for a bench, from a cloud in a clouds.yaml (openstacksdk's file; the
 * aio writes `<data>/etc/clouds.yaml`): the project-scoped token, its project and the
 * catalog's public endpoints. The benches that talk to OpenStack services share it.
 */
export interface CloudSession {
  readonly token: string;
  readonly projectId: string;
  /** The catalog's public URL for a service type, without a trailing slash. @throws when the catalog has none. */
  url(type: string): string;
}

type Auth = { auth_url: string; username: string; password: string; project_name: string; user_domain_name?: string; project_domain_name?: string };

/** The clouds.yaml a bench reads: `--clouds`, else `OS_CLIENT_CONFIG_FILE` (the caller passes it), else the aio's. */
export function cloudsFile(flag: string | undefined, envValue: string | undefined): string {
  return flag ?? envValue ?? 'data/etc/clouds.yaml';
}

/** Logs in as the cloud `name` of `file` (password auth, scoped to its project). */
export async function cloudLogin(file: string, name: string): Promise<CloudSession> {
  const a = (parseYaml(readFileSync(file, 'utf8')) as { clouds?: Record<string, { auth?: Auth }> }).clouds?.[name]?.auth;
  if (!a) throw new Error(`no cloud ${name} in ${file}`);
  const res = await fetch(`${a.auth_url.replace(/\/+$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: a.username, domain: { name: a.user_domain_name ?? 'Default' }, password: a.password } } }, scope: { project: { name: a.project_name, domain: { name: a.project_domain_name ?? 'Default' } } } } }),
  });
  if (res.status !== 201) throw new Error(`token for ${name}: ${res.status}`);
  const body = (await res.json()) as { token: { project: { id: string }; catalog: { type: string; endpoints: { interface: string; url: string }[] }[] } };
  const catalog = body.token.catalog;
  return {
    token: res.headers.get('x-subject-token') as string,
    projectId: body.token.project.id,
    url(type) {
      const url = catalog.find((s) => s.type === type)?.endpoints.find((e) => e.interface === 'public')?.url;
      if (!url) throw new Error(`no ${type} endpoint in the catalog`);
      return url.replace(/\/+$/, '');
    },
  };
}
