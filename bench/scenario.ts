import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { BenchError, ScenarioError } from './bench-error.ts';
import { type SizeClass, SizeDistribution, parseSize } from './sizes.ts';

/**
 * A benchmark scenario: what to send, how hard, for how long. Files are JSON or YAML with
 * these fields; unknown fields are refused so that a typo is
 * never silently ignored:
 *
 * | field | meaning | default |
 * |---|---|---|
 * | `name` | used in result file names | the file's base name |
 * | `description` | free text | `""` |
 * | `size` or `sizes` | one size (`"4KiB"`), or `[{size, weight}, {min, max, weight}]` | required |
 * | `mix` | operation weights, e.g. `{"PUT": 30, "GET": 70}`; ops PUT GET HEAD DELETE LIST | required |
 * | `concurrency` | requests in flight at once | 16 |
 * | `duration` / `count` | seconds (`30`, `"2m"`) and/or operations to run; the first reached ends a round | one required |
 * | `warmup` | seconds run before measuring, excluded from the results | 0 |
 * | `containers` | containers the objects are spread over | 1 |
 * | `containerPrefix` | container names are `<prefix>-<name>-<i>` | `swiftlet-bench` |
 * | `prefill` | objects written before measuring, for GET/HEAD/DELETE to use | `4 * concurrency` if the mix reads or deletes, else 0 |
 * | `listing.objects` | fill every container to this many objects before measuring (kept for later runs) | 0 |
 * | `listing.pageSize` | `limit` of each listing request (one LIST op = one page) | 1000 |
 * | `cleanup` | `run` deletes what the run wrote, `all` also the listing fill and containers, `none` nothing | `run` |
 */
export type OpName = 'PUT' | 'GET' | 'HEAD' | 'DELETE' | 'LIST';

/** Every operation, in the order tables and charts show them. */
export const OPS: readonly OpName[] = ['PUT', 'GET', 'HEAD', 'DELETE', 'LIST'];

export type CleanupMode = 'none' | 'run' | 'all';

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly sizes: SizeDistribution;
  readonly mix: Readonly<Record<OpName, number>>;
  readonly concurrency: number;
  readonly durationSeconds: number | null;
  readonly count: number | null;
  readonly warmupSeconds: number;
  readonly containers: number;
  readonly containerPrefix: string;
  readonly prefill: number;
  readonly listing: { readonly objects: number; readonly pageSize: number };
  readonly cleanup: CleanupMode;
}

const FIELDS = new Set(['name', 'description', 'size', 'sizes', 'mix', 'concurrency', 'duration', 'count', 'warmup', 'containers', 'containerPrefix', 'prefill', 'listing', 'cleanup']);
const SAFE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** The directory of the standard scenarios. */
export const SCENARIO_DIR = join(import.meta.dirname, 'scenarios');
const EXTENSIONS = ['.json', '.yaml', '.yml'];

/**
 * Validates a parsed scenario document. `source` names the file in messages.
 * @throws {ScenarioError} naming the first bad field and its value.
 */
export function parseScenario(doc: unknown, source: string, defaultName = 'scenario'): Scenario {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ScenarioError(source, '(top level)', undefined, 'a scenario must be an object of fields');
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!FIELDS.has(key)) throw new ScenarioError(source, key, d[key], `unknown field (known: ${[...FIELDS].join(', ')})`);
  }
  const name = d['name'] === undefined ? defaultName : d['name'];
  if (typeof name !== 'string' || !SAFE_NAME.test(name)) throw new ScenarioError(source, 'name', name, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const description = d['description'] ?? '';
  if (typeof description !== 'string') throw new ScenarioError(source, 'description', description, 'must be a string');
  const sizes = parseSizes(d, source);
  const mix = parseMix(d['mix'], source, 'mix');
  const concurrency = integer(d['concurrency'] ?? 16, source, 'concurrency', 1, 10_000);
  const durationSeconds = d['duration'] === undefined || d['duration'] === null ? null : parseDuration(d['duration'], source, 'duration');
  const count = d['count'] === undefined || d['count'] === null ? null : integer(d['count'], source, 'count', 1, Number.MAX_SAFE_INTEGER);
  if (durationSeconds === null && count === null) throw new ScenarioError(source, 'duration', undefined, 'give a duration (seconds) or a count (operations), or both');
  if (durationSeconds !== null && durationSeconds <= 0) throw new ScenarioError(source, 'duration', d['duration'], 'must be more than 0 seconds');
  const warmupSeconds = d['warmup'] === undefined ? 0 : parseDuration(d['warmup'], source, 'warmup');
  const containers = integer(d['containers'] ?? 1, source, 'containers', 1, 10_000);
  const containerPrefix = d['containerPrefix'] ?? 'swiftlet-bench';
  if (typeof containerPrefix !== 'string' || !SAFE_NAME.test(containerPrefix)) throw new ScenarioError(source, 'containerPrefix', containerPrefix, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const readsOrDeletes = mix.GET + mix.HEAD + mix.DELETE > 0;
  const prefill = d['prefill'] === undefined ? (readsOrDeletes ? 4 * concurrency : 0) : integer(d['prefill'], source, 'prefill', 0, 100_000_000);
  if (readsOrDeletes && mix.PUT === 0 && prefill === 0) throw new ScenarioError(source, 'prefill', prefill, 'the mix reads or deletes objects but never PUTs any; prefill must be more than 0');
  const listing = parseListing(d['listing'], source);
  const cleanup = d['cleanup'] ?? 'run';
  if (cleanup !== 'none' && cleanup !== 'run' && cleanup !== 'all') throw new ScenarioError(source, 'cleanup', cleanup, 'must be "run", "all" or "none"');
  return { name, description, sizes, mix, concurrency, durationSeconds, count, warmupSeconds, containers, containerPrefix, prefill, listing, cleanup };
}

function parseSizes(d: Record<string, unknown>, source: string): SizeDistribution {
  if (d['size'] !== undefined && d['sizes'] !== undefined) throw new ScenarioError(source, 'sizes', d['sizes'], 'give "size" or "sizes", not both');
  const raw = d['sizes'] ?? d['size'];
  const field = d['sizes'] !== undefined ? 'sizes' : 'size';
  if (raw === undefined) throw new ScenarioError(source, 'sizes', undefined, 'missing: give "size": "4KiB" or "sizes": [{"size": "4KiB", "weight": 1}, ...]');
  if (!Array.isArray(raw)) return SizeDistribution.fixed(parseSize(raw, field, source));
  if (raw.length === 0) throw new ScenarioError(source, field, raw, 'needs at least one size class');
  const classes: SizeClass[] = raw.map((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof item === 'string' || typeof item === 'number') {
      const bytes = parseSize(item, at, source);
      return { min: bytes, max: bytes, weight: 1 };
    }
    if (typeof item !== 'object' || item === null) throw new ScenarioError(source, at, item, 'must be a size or {"size", "weight"} or {"min", "max", "weight"}');
    const c = item as Record<string, unknown>;
    for (const key of Object.keys(c)) {
      if (!['size', 'min', 'max', 'weight'].includes(key)) throw new ScenarioError(source, `${at}.${key}`, c[key], 'unknown field (known: size, min, max, weight)');
    }
    const weight = c['weight'] ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new ScenarioError(source, `${at}.weight`, weight, 'must be a number >= 0');
    if (c['size'] !== undefined) {
      if (c['min'] !== undefined || c['max'] !== undefined) throw new ScenarioError(source, at, item, 'give "size" or "min"/"max", not both');
      const bytes = parseSize(c['size'], `${at}.size`, source);
      return { min: bytes, max: bytes, weight };
    }
    if (c['min'] === undefined || c['max'] === undefined) throw new ScenarioError(source, at, item, 'needs "size", or both "min" and "max"');
    const min = parseSize(c['min'], `${at}.min`, source);
    const max = parseSize(c['max'], `${at}.max`, source);
    if (min > max) throw new ScenarioError(source, `${at}.min`, c['min'], `is larger than max (${JSON.stringify(c['max'])})`);
    return { min, max, weight };
  });
  if (classes.every((c) => c.weight === 0)) throw new ScenarioError(source, field, raw, 'every weight is 0');
  return new SizeDistribution(classes);
}

/**
 * Parses an operation mix: an object of weights (`{"GET": 70, "PUT": 30}`), keys in any case.
 * @throws {ScenarioError} for an unknown operation, a bad weight or an all-zero mix.
 */
export function parseMix(raw: unknown, source: string, field: string): Record<OpName, number> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ScenarioError(source, field, raw, `must be an object of weights, e.g. {"PUT": 30, "GET": 70} (operations: ${OPS.join(', ')})`);
  const mix: Record<OpName, number> = { PUT: 0, GET: 0, HEAD: 0, DELETE: 0, LIST: 0 };
  for (const [key, weight] of Object.entries(raw)) {
    const op = key.toUpperCase() as OpName;
    if (!OPS.includes(op)) throw new ScenarioError(source, `${field}.${key}`, weight, `unknown operation (known: ${OPS.join(', ')})`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new ScenarioError(source, `${field}.${key}`, weight, 'must be a number >= 0');
    mix[op] = weight;
  }
  if (OPS.every((op) => mix[op] === 0)) throw new ScenarioError(source, field, raw, 'every weight is 0; give at least one operation a weight');
  return mix;
}

/** `30`, `"30s"`, `"500ms"`, `"2m"`, `"1h"` -> seconds. */
export function parseDuration(raw: unknown, source: string, field: string): number {
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return raw;
  if (typeof raw === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
    if (m) return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
  }
  throw new ScenarioError(source, field, raw, 'must be seconds: a number >= 0, or a string like "30s", "500ms", "2m", "1h"');
}

function integer(raw: unknown, source: string, field: string, min: number, max: number): number {
  const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new ScenarioError(source, field, raw, `must be a whole number from ${min} to ${max}`);
  return value;
}

function parseListing(raw: unknown, source: string): Scenario['listing'] {
  if (raw === undefined || raw === null) return { objects: 0, pageSize: 1000 };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError(source, 'listing', raw, 'must be an object {"objects": N, "pageSize": N}');
  const l = raw as Record<string, unknown>;
  for (const key of Object.keys(l)) {
    if (key !== 'objects' && key !== 'pageSize') throw new ScenarioError(source, `listing.${key}`, l[key], 'unknown field (known: objects, pageSize)');
  }
  return {
    objects: integer(l['objects'] ?? 0, source, 'listing.objects', 0, 100_000_000),
    pageSize: integer(l['pageSize'] ?? 1000, source, 'listing.pageSize', 1, 10_000),
  };
}

/**
 * Command-line overrides of a loaded scenario. `--duration` alone drops the file's `count`
 * (and `--count` alone its `duration`) so the flag means what it says.
 */
export interface ScenarioOverrides {
  duration?: string;
  count?: string;
  concurrency?: string;
  containers?: string;
  objects?: string;
  prefill?: string;
  warmup?: string;
  size?: string;
  mix?: string;
  cleanup?: string;
  containerPrefix?: string;
}

/**
 * Applies `--flag` overrides, validating each as the file's field would be.
 * @throws {ScenarioError} naming the flag and its value.
 */
export function applyOverrides(s: Scenario, o: ScenarioOverrides): Scenario {
  const doc: Record<string, unknown> = scenarioToJson(s);
  const sources: Record<string, string> = {};
  const set = (field: string, flag: string, value: unknown): void => {
    doc[field] = value;
    sources[field] = `--${flag}`;
  };
  if (o.duration !== undefined) {
    set('duration', 'duration', /^\d+(\.\d+)?$/.test(o.duration) ? Number(o.duration) : o.duration);
    if (o.count === undefined) delete doc['count'];
  }
  if (o.count !== undefined) {
    set('count', 'count', o.count);
    if (o.duration === undefined) delete doc['duration'];
  }
  if (o.concurrency !== undefined) set('concurrency', 'concurrency', o.concurrency);
  if (o.containers !== undefined) set('containers', 'containers', o.containers);
  if (o.prefill !== undefined) set('prefill', 'prefill', o.prefill);
  if (o.warmup !== undefined) set('warmup', 'warmup', /^\d+(\.\d+)?$/.test(o.warmup) ? Number(o.warmup) : o.warmup);
  if (o.cleanup !== undefined) set('cleanup', 'cleanup', o.cleanup);
  if (o.containerPrefix !== undefined) set('containerPrefix', 'container-prefix', o.containerPrefix);
  if (o.objects !== undefined) set('listing', 'objects', { ...(doc['listing'] as object), objects: o.objects });
  if (o.size !== undefined) {
    delete doc['sizes'];
    set('size', 'size', /^\d+$/.test(o.size) ? Number(o.size) : o.size);
  }
  if (o.mix !== undefined) set('mix', 'mix', parseMixFlag(o.mix));
  // Re-validate the whole document; a failure names the flag when a flag set the field.
  try {
    return parseScenario(doc, 'scenario', s.name);
  } catch (err) {
    if (err instanceof ScenarioError) {
      const top = err.field.split(/[.[]/)[0] ?? err.field;
      const flag = sources[top];
      if (flag !== undefined) throw new ScenarioError(flag, err.field, err.value, err.problem);
    }
    throw err;
  }
}

/** `GET:70,PUT:30` (or `GET=70`) -> `{GET: 70, PUT: 30}`. */
function parseMixFlag(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of text.split(',')) {
    const [op, weight] = part.split(/[:=]/);
    if (op === undefined || weight === undefined) throw new ScenarioError('--mix', 'mix', text, 'use OP:WEIGHT pairs separated by commas, e.g. GET:70,PUT:30');
    out[op.trim()] = /^\s*\d+(\.\d+)?\s*$/.test(weight) ? Number(weight) : weight;
  }
  return out;
}

/** The scenario as a plain document (as a file would give it), for results and re-validation. */
export function scenarioToJson(s: Scenario): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    name: s.name,
    description: s.description,
    sizes: s.sizes.classes.map((c) => (c.min === c.max ? { size: c.min, weight: c.weight } : { min: c.min, max: c.max, weight: c.weight })),
    mix: Object.fromEntries(OPS.filter((op) => s.mix[op] > 0).map((op) => [op, s.mix[op]])),
    concurrency: s.concurrency,
    warmup: s.warmupSeconds,
    containers: s.containers,
    containerPrefix: s.containerPrefix,
    prefill: s.prefill,
    listing: { ...s.listing },
    cleanup: s.cleanup,
  };
  if (s.durationSeconds !== null) doc['duration'] = s.durationSeconds;
  if (s.count !== null) doc['count'] = s.count;
  return doc;
}

/** Parses file text by its extension (`.yaml`/`.yml` as the YAML subset, anything else JSON). */
export function parseScenarioText(text: string, path: string): Scenario {
  const name = basename(path, extname(path));
  let doc: unknown;
  try {
    doc = ['.yaml', '.yml'].includes(extname(path)) ? parseYaml(text, { uniqueKeys: true }) : JSON.parse(text);
  } catch (err) {
    if (err instanceof YAMLParseError || err instanceof SyntaxError) throw new ScenarioError(path, '(file)', undefined, `not valid ${err instanceof YAMLParseError ? 'YAML' : 'JSON'}: ${err.message}`);
    throw err;
  }
  return parseScenario(doc, path, SAFE_NAME.test(name) ? name : 'scenario');
}

/**
 * Loads a scenario by file path, or by the name of a standard one (`small`, `listing`, ...).
 * @throws {BenchError} `BENCH_USAGE` when there is no such file or standard scenario.
 */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  let path: string | undefined;
  if (existsSync(nameOrPath) && EXTENSIONS.includes(extname(nameOrPath))) path = nameOrPath;
  else if (!nameOrPath.includes('/')) path = EXTENSIONS.map((ext) => join(SCENARIO_DIR, `${nameOrPath}${ext}`)).find((p) => existsSync(p));
  if (path === undefined) {
    throw new BenchError('BENCH_USAGE', `no scenario ${JSON.stringify(nameOrPath)}: give a .json/.yaml file or one of: ${(await standardScenarios()).join(', ')}`);
  }
  return parseScenarioText(await readFile(path, 'utf8'), path);
}

/** Names of the scenarios shipped in `bench/scenarios/`. */
export async function standardScenarios(): Promise<string[]> {
  const files = await readdir(SCENARIO_DIR).catch(() => [] as string[]);
  return files.filter((f) => EXTENSIONS.includes(extname(f))).map((f) => basename(f, extname(f))).sort();
}
