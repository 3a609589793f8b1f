import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/**
 * Files stay small and are named for what they export: a source file of more than 800 lines
 * (a test file of more than 1,500) is one flow too many, and `utils.ts`, `helpers.ts`,
 * `misc.ts` or `common.ts` say nothing about what they hold (Swift's utils.py grew to 7,000).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_MAX = 800;
const TEST_MAX = 1500;
const GRAB_BAGS = new Set(['utils.ts', 'util.ts', 'helpers.ts', 'helper.ts', 'misc.ts', 'common.ts', 'stuff.ts']);

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(relative(ROOT, path).split(sep).join('/'));
  }
  return out;
}

const files = tsFiles(ROOT);

test('source files stay under 800 lines, test files under 1,500', () => {
  const long: string[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n').length;
    const max = file.startsWith('test/') ? TEST_MAX : SOURCE_MAX;
    if (lines > max) long.push(`${file}: ${lines} lines (at most ${max})`);
  }
  assert.equal(long, []);
});

test('no grab-bag file names', () => {
  assert.equal(files.filter((f) => GRAB_BAGS.has(basename(f))), []);
});

test('the checks see the tree', () => {
  assert.ok(files.includes('proxy/pipeline.ts') && files.length > 100, String(files.length));
});

test.run();
