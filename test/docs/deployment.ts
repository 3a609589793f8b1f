/**
 * docs/deployment.md, run: its marked commands (see markdown-steps.ts), in order, as an
 * operator on each machine would type them, on loopback addresses of this one host. Then the
 * data is checked where the rings say it lives. Part of `npm run conformance` (it needs
 * python-swiftclient's `swift`); ends with "N passed, M failed".
 *
 *   node test/docs/deployment.ts [--keep]
 *
 * What differs from real machines, and only this (the substitutions below):
 * - machines swiftN at 10.0.0.1N are 127.0.0.(N+1); ports 6200-6202 and 8080 are 28200-28202
 *   and 28080 (DEPLOY_PORT_BASE=28000 moves them);
 * - each machine's /etc/swiftlet, /srv/node and /tmp are directories under one temp dir, its
 *   disks plain directories (so `mount_check = true` is false), /opt/swiftlet this checkout;
 * - `scp FILES swiftN:DIR` copies; a copied config names the target's directories, and a
 *   copied proxy.conf binds the target's address (a real proxy binds 0.0.0.0, which loopback
 *   machines on one host cannot all do);
 * - `systemctl enable --now|start|stop UNIT` runs or stops the unit's `ExecStart` and, on
 *   start, waits until it listens (as a unit is "started" once it serves).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { markedSteps, type Step } from './markdown-steps.ts';

const REPO = join(import.meta.dirname, '../..');
const PORT_BASE = Number(process.env['DEPLOY_PORT_BASE'] ?? 28000);
const keep = process.argv.includes('--keep');

interface Machine {
  readonly name: string;
  readonly ip: string;
  readonly root: string;
  readonly units: Map<string, ChildProcess>;
}

const work = await mkdtemp(join(tmpdir(), 'swiftlet-deployment-'));
const machines = new Map<string, Machine>();
function machine(name: string): Machine {
  let m = machines.get(name);
  if (!m) {
    const n = Number(/^swift(\d+)$/.exec(name)?.[1]);
    if (!Number.isInteger(n)) throw new Error(`unknown machine ${name}`);
    m = { name, ip: `127.0.0.${n + 1}`, root: join(work, name), units: new Map() };
    machines.set(name, m);
  }
  return m;
}
// The guide's table: the machines "every machine" means until another joins.
for (const name of ['swift1', 'swift2', 'swift3']) machine(name);

/** The guide's text as it runs on `m`. */
function localize(text: string, m: Machine, options: { ownIp?: boolean } = {}): string {
  let out = text
    .replaceAll('/opt/swiftlet', REPO)
    // One pass, so a path made here (under the temp dir) is never made again.
    .replace(/(^|[\s="'])(\/etc\/swiftlet|\/srv\/node|\/tmp\/)/gm, (_, before: string, path: string) => `${before}${join(m.root, path)}${path.endsWith('/') ? '/' : ''}`)
    .replace(/^mount_check = true$/m, 'mount_check = false')
    .replaceAll('<admin key>', 'admin-test-key')
    .replaceAll('<restic key>', 'restic-test-key');
  if (options.ownIp) out = out.replaceAll('10.0.0.11', m.ip).replace(/^bind_ip = 0\.0\.0\.0$/m, `bind_ip = ${m.ip}`);
  return out.replace(/\b10\.0\.0\.1(\d)\b/g, (_, n: string) => `127.0.0.${Number(n) + 1}`).replace(/\b(620[0-2]|8080)\b/g, (p: string) => String(PORT_BASE + (p === '8080' ? 80 : Number(p) - 6000)));
}

/** What a block on machine `m` runs first: where the machines are, and `scp` among them. */
function prelude(m: Machine): string {
  const names = ['swift1', 'swift2', 'swift3', 'swift4'];
  return [
    'set -euo pipefail',
    `declare -A HOST_IP=(${names.map((n, i) => `[${n}]=127.0.0.${i + 2}`).join(' ')})`,
    `declare -A HOST_ROOT=(${names.map((n) => `[${n}]=${join(work, n)}`).join(' ')})`,
    `MACHINE_IP=${m.ip}`,
    `MACHINE_ROOT=${m.root}`,
    `source ${join(import.meta.dirname, 'loopback-machine.sh')}`,
    '',
  ].join('\n');
}

const units = new Map<string, { execStart: string; workingDirectory: string }>();
let environment = '';
let passed = 0;
let failed = 0;

async function runShell(m: Machine, script: string): Promise<{ code: number; output: string }> {
  await mkdir(join(m.root, 'tmp'), { recursive: true });
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `${prelude(m)}${localize(environment, m)}\ncd ${m.root}\n${script}`], { env: { ...process.env, PATH: `${join(REPO, 'node_modules/.bin')}:${process.env['PATH'] ?? ''}` } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** `systemctl` as the guide uses it. */
async function systemctl(m: Machine, args: string[]): Promise<void> {
  const [verb, ...rest] = args;
  const names = rest.filter((a) => !a.startsWith('--'));
  if (verb === 'daemon-reload') return;
  if (verb === 'stop') {
    for (const name of names) await stopUnit(m, name);
    return;
  }
  if ((verb === 'enable' && rest.includes('--now')) || verb === 'start') {
    for (const name of names) await startUnit(m, name);
    return;
  }
  throw new Error(`systemctl ${args.join(' ')}: not something the guide should need`);
}

async function startUnit(m: Machine, name: string): Promise<void> {
  const unit = units.get(name);
  if (!unit) throw new Error(`no unit ${name} in the guide`);
  const command = localize(unit.execStart, m).split(/\s+/);
  await mkdir(join(m.root, 'log'), { recursive: true });
  const log = openSync(join(m.root, 'log', `${name}.log`), 'a');
  const child = spawn(command[0] as string, command.slice(1), { cwd: localize(unit.workingDirectory, m), stdio: ['ignore', log, log] });
  m.units.set(name, child);
  const config = command[command.indexOf('--config') + 1] as string;
  const text = await readFile(config, 'utf8');
  const ip = /^bind_ip = (\S+)$/m.exec(text)?.[1] ?? '127.0.0.1';
  const ports = [...text.matchAll(/^bind_port = (\d+)$/gm)].map((p) => Number(p[1]));
  const deadline = Date.now() + 180_000;
  for (const port of ports) {
    while (!(await accepts(ip, port))) {
      if (child.exitCode !== null) throw new Error(`${m.name} ${name} exited with ${child.exitCode}: ${await readFile(join(m.root, 'log', `${name}.log`), 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`${m.name} ${name} does not listen on ${ip}:${port}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function stopUnit(m: Machine, name: string): Promise<void> {
  const child = m.units.get(name);
  m.units.delete(name);
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function accepts(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, ip);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function runStep(step: Step): Promise<void> {
  switch (step.kind) {
    case 'environment':
      environment += `${step.text}\n`;
      return;
    case 'unit': {
      const execStart = /^ExecStart=(.*)$/m.exec(step.text)?.[1];
      const workingDirectory = /^WorkingDirectory=(.*)$/m.exec(step.text)?.[1] ?? '/';
      if (!execStart) throw new Error(`unit ${step.name} has no ExecStart`);
      units.set(step.name, { execStart, workingDirectory });
      return;
    }
    case 'file':
      for (const m of machines.values()) {
        const path = localize(step.path, m);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, `${localize(step.text, m, { ownIp: step.ownIp })}\n`);
      }
      return;
    case 'run':
      for (const m of step.on === 'every machine' ? [...machines.values()] : [machine(step.on)]) {
        // systemctl lines are this harness's; the lines between them go to bash in one piece.
        const segments: { shell?: string; systemctl?: string[] }[] = [];
        let shell: string[] = [];
        for (const line of step.text.split('\n')) {
          const s = /^systemctl (.*)$/.exec(line.trim());
          if (s) {
            if (shell.length) segments.push({ shell: shell.join('\n') });
            shell = [];
            segments.push({ systemctl: (s[1] as string).split(/\s+/) });
          } else shell.push(line);
        }
        if (shell.some((l) => l.trim() !== '')) segments.push({ shell: shell.join('\n') });
        let last = { code: 0, output: '' };
        for (const segment of segments) {
          if (segment.systemctl) await systemctl(m, segment.systemctl);
          else last = await runShell(m, localize(segment.shell as string, m));
        }
        const expected = step.outputHas === undefined ? undefined : localize(step.outputHas, m);
        if (last.code !== step.exit || (expected !== undefined && !last.output.includes(expected))) {
          throw new Error(`on ${m.name}: exit ${last.code} (expected ${step.exit})${expected !== undefined ? `, output should have "${expected}"` : ''}:\n${last.output}`);
        }
        if (last.output.trim() !== '') process.stdout.write(`${last.output.trimEnd().split('\n').map((l) => `  ${m.name}| ${l}`).join('\n')}\n`);
      }
  }
}

/** After the guide: every object on every primary of the final ring, and served whole. */
async function checkConvergence(): Promise<void> {
  const swift1 = machine('swift1');
  const script = `
export ST_AUTH=http://10.0.0.14:8080/auth/v1.0 ST_USER=admin:admin ST_KEY='<admin key>'
for o in cat.jpg while-down.jpg; do
  swift download photos $o -o /tmp/check-$o && cmp /tmp/cat.jpg /tmp/check-$o
  urls=$($SWIFTLET ring get-nodes /etc/swiftlet/object.ring.gz AUTH_admin photos $o | grep '^curl ' | grep -v Handoff | cut -d'"' -f2)
  [ "$(echo "$urls" | wc -l)" = 3 ]
  for url in $urls; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -I "$url"); echo "$o $url $code"; [ "$code" = 200 ]
  done
done
$SWIFTLET status --config /etc/swiftlet/proxy.conf`;
  const result = await runShell(swift1, localize(script, swift1));
  process.stdout.write(result.output);
  if (result.code !== 0) throw new Error(`not converged:\n${result.output}`);
}

async function main(): Promise<void> {
  const steps = markedSteps(await readFile(join(REPO, 'docs/deployment.md'), 'utf8'));
  try {
    for (const step of steps) {
      const label = step.kind === 'run' ? `deployment.md:${step.line} run on ${step.on}` : `deployment.md:${step.line} ${step.kind}`;
      try {
        await runStep(step);
        passed++;
        process.stdout.write(`ok   ${label}\n`);
      } catch (err) {
        failed++;
        process.stdout.write(`FAIL ${label}: ${(err as Error).message}\n`);
        return;
      }
    }
    try {
      await checkConvergence();
      passed++;
      process.stdout.write('ok   every object on each of its primaries after the fourth machine joined, and whole\n');
    } catch (err) {
      failed++;
      process.stdout.write(`FAIL convergence: ${(err as Error).message}\n`);
    }
  } finally {
    for (const m of machines.values()) for (const name of [...m.units.keys()]) await stopUnit(m, name);
    if (keep) process.stdout.write(`kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
