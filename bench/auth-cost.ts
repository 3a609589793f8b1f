/**
 * `npm run bench:auth`: the CPU the proxy's auth spends on a 4 KiB GET with a Keystone token
 * (keystoneauth: the token looked up among those already opened, its expiry and the known
 * revocation events checked, Swift's rules run) against the same GET with a tempauth token
 * (keystoneauth passes it on, tempauth checks its signature cache and runs its rules), in
 * process and on CPU, so a busy machine changes little. Both go through the pipeline's two
 * auth middlewares, as in `proxy/pipeline.ts`, to a handler that authorizes an object GET as
 * the object controller does. Alternating rounds; medians. Also the first, uncached opening
 * of a Keystone token (AES and HMAC), which a client pays once per token and proxy worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../common/clock.ts';
import { defaultConfig } from '../common/config.ts';
import { createLogger } from '../common/logger.ts';
import { fernetEncrypt } from '../common/token/fernet.ts';
import { fernetSetup, loadFernetKeys } from '../common/token/key-repository.ts';
import { encodeTokenPayload, newAuditId } from '../common/token/token-payload.ts';
import { tempauthSchema } from '../proxy/config.ts';
import { keystoneauth } from '../proxy/middleware/keystoneauth.ts';
import { keystoneauthSchema } from '../proxy/middleware/keystoneauth-settings.ts';
import { tempauth } from '../proxy/middleware/tempauth.ts';
import { pipeline, type ProxyHandler, type ProxyRequest } from '../proxy/request.ts';

const CALLS = Number(process.argv[2] ?? 200_000);
const ROUNDS = 5;
const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const work = mkdtempSync(join(tmpdir(), 'auth-cost-'));
const keys = join(work, 'fernet-keys');
fernetSetup(keys);
const logger = createLogger({ level: 'error', sink: () => {} });
let closing: (() => Promise<void>) | undefined;
const ks = keystoneauth(
  { ...defaultConfig({ k: keystoneauthSchema }).k, key_repository: keys, operator_roles: 'admin, member' },
  // No identity account here: the revocation poller finds no events.
  { clock: systemClock, logger, app: async () => ({ status: 404, headers: {} }), accountInfo: async () => ({ status: 204, sysmeta: {} }), onClose: (stop) => (closing = stop) },
);
const ta = tempauth({ ...defaultConfig({ t: tempauthSchema }).t, 'user_*': { user_test_tester: 'testing .admin' } }, 'secret', { clock: systemClock, accountSysmeta: async () => ({}) }, {});
const objectGet: ProxyHandler = async (req) => {
  const decision = await req.env.authorize?.({ method: 'GET', account: req.path.split('/')[2] as string, container: 'c', object: 'o' });
  return { status: decision?.denied ? decision.denied.status : 200, headers: { 'content-length': '4096' }, body: '' };
};
const handler = pipeline([ks, ta], objectGet);

const request = (method: string, path: string, headers: Record<string, string>): ProxyRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  headers: { ...headers },
  body: EMPTY,
  remoteAddress: '127.0.0.1',
  signal: new AbortController().signal,
  env: { transId: 'tx', logger },
});

const project = 'a'.repeat(32);
const keystoneToken = (): string =>
  fernetEncrypt(
    loadFernetKeys(keys)[0] as Buffer,
    encodeTokenPayload({ userId: 'b'.repeat(32), userDomainId: 'default', methods: ['password'], scope: { kind: 'project', projectId: project, domainId: 'default' }, expiresAt: Date.now() + 3_600_000, auditIds: [newAuditId()], roles: [{ id: 'c'.repeat(32), name: 'member' }] }),
    Math.floor(Date.now() / 1000),
  );
const login = await handler(request('GET', '/auth/v1.0', { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' }));
const tempauthToken = String((login.headers as Record<string, string>)['X-Auth-Token']);
const kToken = keystoneToken();

async function round(token: string, account: string): Promise<number> {
  const began = cpuMicros();
  for (let i = 0; i < CALLS; i++) {
    // A fresh copy of the token, as each request's headers are (no string hash cached from the last one).
    const res = await handler(request('GET', `/v1/${account}/c/o`, { 'x-auth-token': token.slice(0, 8) + token.slice(8) }));
    if (res.status !== 200) throw new Error(`GET answered ${res.status}`);
  }
  return (cpuMicros() - began) / CALLS;
}

async function firstUse(): Promise<number> {
  const tokens = Array.from({ length: 2000 }, keystoneToken);
  const began = cpuMicros();
  for (const token of tokens) await handler(request('GET', `/v1/AUTH_${project}/c/o`, { 'x-auth-token': token }));
  return (cpuMicros() - began) / tokens.length;
}

const rows: { tempauth: number; keystone: number; first: number }[] = [];
for (let r = 0; r < ROUNDS; r++) rows.push({ tempauth: await round(tempauthToken, 'AUTH_test'), keystone: await round(kToken, `AUTH_${project}`), first: await firstUse() });
await closing?.();
rmSync(work, { recursive: true, force: true });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`${CALLS} GETs per round, ${ROUNDS} alternating rounds (CPU µs per request, median of rounds)`);
console.log(`tempauth token:  ${median(rows.map((r) => r.tempauth)).toFixed(2)} µs`);
console.log(`Keystone token:  ${median(rows.map((r) => r.keystone)).toFixed(2)} µs`);
console.log(`difference:      ${median(rows.map((r) => r.keystone - r.tempauth)).toFixed(2)} µs`);
console.log(`a Keystone token's first use on a proxy worker (opened, decoded): ${median(rows.map((r) => r.first)).toFixed(2)} µs`);
process.exit(0);
