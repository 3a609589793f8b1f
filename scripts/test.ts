/**
 * `npm test`: type-checks and lints the project (tsc, Biome with `biome.json`), then runs every
 * `*.test.ts` under test/ with uvu, and ends with one line `N passed, N failed, N skipped` (a
 * failed type-check or lint counts as one failure each). `npm test -- <pattern>` runs only test files whose path matches the pattern.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..');
// Only test files, even for a pattern that also matches helpers: uvu imports whatever matches,
// and a helper script (a server meant to run as a child process) then keeps the run alive.
const pattern = process.argv[2] === undefined ? '\\.test\\.ts$' : `^(?=.*(?:${process.argv[2]})).*\\.test\\.ts$`;
const timeoutMs = Number(process.env['TEST_TIMEOUT_MS'] ?? 25 * 60_000);

function run(command: string, args: string[], echo: boolean): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    const take = (chunk: Buffer, to: NodeJS.WriteStream): void => {
      output += chunk.toString();
      if (echo) to.write(chunk);
    };
    child.stdout.on('data', (c: Buffer) => take(c, process.stdout));
    child.stderr.on('data', (c: Buffer) => take(c, process.stderr));
    const timer = setTimeout(() => {
      process.stderr.write(`\ntest run exceeded ${timeoutMs} ms; stopping it\n`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const typecheck = await run(process.execPath, [tsc, '-p', '.'], true);
if (typecheck.code === 0) process.stdout.write('typecheck: ok\n');
else process.stdout.write('typecheck: FAILED\n');

const biome = join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
const lint = await run(process.execPath, [biome, 'lint', '--colors=off', '--error-on-warnings', '.'], false);
if (lint.code === 0) process.stdout.write('lint: ok\n');
else process.stdout.write(`${lint.output}lint: FAILED\n`);

// uvu's exports hide its bin, so find it beside its entry point (node_modules/uvu/dist/index.js).
const uvu = join(dirname(require.resolve('uvu')), '..', 'bin.js');
const tests = await run(process.execPath, [uvu, 'test', pattern, '-c', 'false'], true);
const plain = tests.output.replace(/\u001b\[[0-9;]*m/g, '');
const num = (label: string): number | undefined => {
  const m = new RegExp(`${label}:\\s+(\\d+)`).exec(plain);
  return m ? Number(m[1]) : undefined;
};
const total = num('Total');
const passed = num('Passed') ?? 0;
const skipped = num('Skipped') ?? 0;
let failed = total === undefined ? 1 : total - passed;
if (tests.code !== 0 && failed === 0) failed = 1; // crashed outside a test
if (typecheck.code !== 0) failed += 1;
if (lint.code !== 0) failed += 1;
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed === 0 ? 0 : 1;
