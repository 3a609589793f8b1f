import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/**
 * The import directions of DESIGN.md, checked on every source file: `common <- ring <-
 * account|container|object <- replicator`; `proxy` sees only `common` and `ring` (storage
 * servers only over HTTP); `client` only `common`; the services on the cluster only `common`
 * and `client`. A new top-level folder must be given its place here before it may import.
 */
const ROOT = resolve(import.meta.dirname, '../..');

const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  common: [],
  ring: ['common'],
  account: ['common', 'ring'],
  container: ['common', 'ring'],
  object: ['common', 'ring'],
  replicator: ['common', 'ring', 'account', 'container', 'object'],
  proxy: ['common', 'ring'],
  client: ['common'],
  identity: ['common', 'client'],
  compute: ['common', 'client'],
  // Micro-benchmarks drive storage servers, the proxy's and nodes' parts and the volume backup
  // engine in process; cluster runs go through `cli`.
  bench: ['common', 'ring', 'account', 'container', 'object', 'client', 'cli', 'proxy', 'replicator', 'compute'],
  cli: ['*'],
  scripts: ['*'],
  test: ['*'],
};

/** Rules inside one top-level folder: [importer pattern, imported pattern, why]. */
const INSIDE: readonly (readonly [RegExp, RegExp, string])[] = [
  [/^proxy\/middleware\//, /^proxy\/controllers\//, 'middlewares reach controllers through the pipeline, not by import'],
  [/^proxy\/controllers\/account\.ts$/, /^proxy\/controllers\/(container|object)\.ts$/, 'controllers do not import each other'],
  [/^proxy\/controllers\/container\.ts$/, /^proxy\/controllers\/(account|object)\.ts$/, 'controllers do not import each other'],
  [/^proxy\/controllers\/object(-[a-z]+)?\.ts$/, /^proxy\/controllers\/(account|container)\.ts$/, 'controllers do not import each other'],
  // The builder and its tools (rebalance, dispersion, validate, cli) are offline; servers load rings.
  [/^(?!ring\/(cli|builder|rebalance|dispersion|validate)\.ts$)(common|ring|account|container|object|replicator|proxy)\//, /^ring\/(builder|rebalance|dispersion|validate)\.ts$/, 'the ring builder is offline only'],
];

const SPECIFIER = /(?:^|[\s;])(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every relative import of a file, as repository paths (`proxy/swift-path.ts`). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) out.push(relative(ROOT, resolve(dirname(file), spec)).split(sep).join('/'));
  }
  return out;
}

function topFolder(path: string): string {
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : '';
}

const files = sourceFiles(ROOT).map((f) => relative(ROOT, f).split(sep).join('/'));

test('every top-level folder with source has a place in the layering', () => {
  const unknown = [...new Set(files.map(topFolder))].filter((t) => t !== '' && !(t in MAY_IMPORT));
  assert.equal(unknown, [], 'add these folders to MAY_IMPORT in test/unit/layering.test.ts (and to DESIGN.md\'s directions in docs/decisions.md)');
});

test('imports follow the layering of DESIGN.md', () => {
  const wrong: string[] = [];
  for (const file of files) {
    const from = topFolder(file);
    const allowed = MAY_IMPORT[from];
    if (allowed === undefined || allowed.includes('*')) continue;
    for (const target of relativeImports(join(ROOT, file))) {
      const to = topFolder(target);
      if (to !== from && !allowed.includes(to)) wrong.push(`${file} -> ${target}`);
    }
  }
  assert.equal(wrong, []);
});

test('imports inside a folder follow its rules', () => {
  const wrong: string[] = [];
  for (const file of files) {
    for (const target of relativeImports(join(ROOT, file))) {
      for (const [importer, imported, why] of INSIDE) {
        if (importer.test(file) && imported.test(target)) wrong.push(`${file} -> ${target}: ${why}`);
      }
    }
  }
  assert.equal(wrong, []);
});

test('the check sees imports (it would catch a violation)', () => {
  // A guard against a SPECIFIER that silently matches nothing.
  const imports = relativeImports(join(ROOT, 'proxy/server.ts'));
  assert.ok(imports.includes('proxy/pipeline.ts'), imports.join(', '));
  assert.ok(imports.includes('ring/ring-set.ts'));
});

test.run();
