/**
 * Token issue and validation per second against any Keystone v3 endpoint (ours or a real one):
 *
 *   node bench/token-issue.ts --cloud swiftlet-admin [--clouds data/etc/clouds.yaml]
 *   node bench/token-issue.ts --auth-url http://127.0.0.1:5000/v3 --user admin --password X \
 *        [--project admin] [--domain Default] [--method password|token|validate]
 *        [--seconds 10] [--concurrency 8]
 *
 * `password`: what every openstackclient command does first (a project-scoped token, catalog
 * included); the password hash's cost dominates it by design. `token`: rescoping a token (no
 * password hash). `validate`: `GET /v3/auth/tokens` as a service validates its callers'
 * tokens. Prints tokens (or validations) per second, latency percentiles and errors.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { splitArgs } from '../common/cli-args.ts';
import { percentileOfSorted } from './percentiles.ts';
import { parse as parseYaml } from 'yaml';

const { flags } = splitArgs(process.argv.slice(2), new Set(['cloud', 'clouds', 'auth-url', 'user', 'password', 'project', 'domain', 'method', 'seconds', 'concurrency']));
const cloud = flags.get('cloud');
let auth: { auth_url: string; username: string; password: string; project_name?: string; user_domain_name?: string };
if (cloud !== undefined) {
  const file = flags.get('clouds') ?? process.env['OS_CLIENT_CONFIG_FILE'] ?? 'data/etc/clouds.yaml';
  const clouds = parseYaml(readFileSync(file, 'utf8')) as { clouds: Record<string, { auth: typeof auth }> };
  const found = clouds.clouds[cloud];
  if (!found) throw new Error(`no cloud ${cloud} in ${file}`);
  auth = found.auth;
} else {
  auth = { auth_url: flags.get('auth-url') ?? 'http://127.0.0.1:5000/v3', username: flags.get('user') ?? 'admin', password: flags.get('password') ?? '', project_name: flags.get('project') ?? 'admin' };
}
const domain = flags.get('domain') ?? auth.user_domain_name ?? 'Default';
const method = flags.get('method') ?? 'password';
const seconds = Number(flags.get('seconds') ?? 10);
const concurrency = Number(flags.get('concurrency') ?? 8);
const url = new URL(auth.auth_url.replace(/\/+$/, ''));
const pool = new Pool(url.origin, { connections: concurrency });
const tokensPath = `${url.pathname}/auth/tokens`;
const scope = auth.project_name ? { project: { name: auth.project_name, domain: { name: domain } } } : undefined;
const passwordBody = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: auth.username, domain: { name: domain }, password: auth.password } } }, ...(scope ? { scope } : {}) } });

async function post(body: string): Promise<{ status: number; token: string }> {
  const res = await pool.request({ method: 'POST', path: tokensPath, headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
  await res.body.dump();
  return { status: res.statusCode, token: String(res.headers['x-subject-token'] ?? '') };
}

const first = await post(passwordBody);
if (first.status !== 201) throw new Error(`could not get a token from ${auth.auth_url}: ${first.status}`);
const rescopeBody = JSON.stringify({ auth: { identity: { methods: ['token'], token: { id: first.token } }, ...(scope ? { scope } : {}) } });
const op: () => Promise<number> =
  method === 'password'
    ? async () => (await post(passwordBody)).status
    : method === 'token'
      ? async () => (await post(rescopeBody)).status
      : async () => {
          const res = await pool.request({ method: 'GET', path: tokensPath, headers: { 'x-auth-token': first.token, 'x-subject-token': first.token, accept: 'application/json' } });
          await res.body.dump();
          return res.statusCode;
        };

const latencies: number[] = [];
let errors = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const status = await op().catch(() => 0);
      latencies.push(performance.now() - t0);
      if (status < 200 || status >= 300) errors++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const ms = (p: number): string => percentileOfSorted(latencies, p).toFixed(1);
console.log(`${method} at ${auth.auth_url}, concurrency ${concurrency}, ${elapsed.toFixed(1)} s: ${(latencies.length / elapsed).toFixed(1)}/s, p50 ${ms(50)} ms, p90 ${ms(90)} ms, p99 ${ms(99)} ms, errors ${errors}`);
await pool.close();
