/**
 * README.md's client lines, run against a running all-in-one cluster (the conformance run's):
 * each block marked `<!-- test: run on aio -->` runs in a fresh directory holding a
 * `cat.jpg`, with the README's port 8080 replaced by the cluster's. Ends with
 * "N passed, M failed".
 *
 *   node test/docs/readme.ts PORT
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markedSteps } from './markdown-steps.ts';

const port = process.argv[2];
if (!port) throw new Error('usage: node test/docs/readme.ts PORT');
const steps = markedSteps(await readFile(join(import.meta.dirname, '../../README.md'), 'utf8'));
let passed = 0;
let failed = 0;
for (const step of steps) {
  if (step.kind !== 'run' || step.on !== 'aio') continue;
  const dir = await mkdtemp(join(tmpdir(), 'swiftlet-readme-'));
  try {
    await writeFile(join(dir, 'cat.jpg'), Buffer.alloc(70_000, 1));
    const script = `set -euo pipefail\n${step.text.replace(/\b8080\b/g, port)}`;
    const run = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = `${run.stdout}${run.stderr}`;
    if (run.status === step.exit && (step.outputHas === undefined || output.includes(step.outputHas))) {
      passed++;
      process.stdout.write(`ok   README.md:${step.line}\n`);
    } else {
      failed++;
      process.stdout.write(`FAIL README.md:${step.line}: exit ${run.status}\n${output}\n`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
