import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

/**
 * Typed config. Each service declares its sections once, as a schema of fields with their
 * defaults; `loadConfig` parses an INI file (Swift's format) or JSON into a frozen, typed
 * object, and refuses a bad value or an unknown key with an error that names both.
 *
 * ```ts
 * const storage = { bind_port: int(6200, { min: 1, max: 65535 }), devices: str('/srv/node') };
 * const cfg = loadConfig(text, { storage }); // cfg.storage.bind_port: number
 * ```
 */
export interface Field<T> {
  readonly default: T;
  readonly doc?: string;
  /** Turns the raw value (a string from INI, any JSON value) into T, or returns a problem. */
  parse(raw: unknown): { value: T } | { problem: string };
}

export type Schema = Readonly<Record<string, Field<unknown>>>;
export type ConfigOf<S extends Schema> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/**
 * A family of keys matching a pattern with one `*` (schema key `user_*`, `*_require_group`),
 * like tempauth's `user_<account>_<user>`: each matching key is parsed with `item`, and the
 * section gets a record of them by full key name.
 */
export interface PatternField<T> extends Field<Readonly<Record<string, T>>> {
  readonly item: Field<T>;
}

export function keysLike<T>(item: Field<T>, doc?: string): PatternField<T> {
  return {
    default: Object.freeze({}),
    doc,
    item,
    parse: () => ({ problem: 'pattern fields are parsed key by key' }),
  };
}
export type Schemas = Readonly<Record<string, Schema>>;
/**
 * A schema named `<prefix>*` (e.g. `storage-policy:*`) is a family of sections, as Swift's
 * `[storage-policy:N]`: each section whose name starts with the prefix is validated against
 * it, and the config holds them by the rest of their name (`'0'`, `'1'`, ...).
 */
export type ConfigsOf<M extends Schemas> = {
  readonly [K in keyof M]: K extends `${string}*` ? Readonly<Record<string, ConfigOf<M[K]>>> : ConfigOf<M[K]>;
};

interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  readonly doc?: string;
}

function rangeProblem(n: number, range: NumberRange): string | undefined {
  if (range.min !== undefined && n < range.min) return `must be at least ${range.min}`;
  if (range.max !== undefined && n > range.max) return `must be at most ${range.max}`;
  return undefined;
}

/** An integer field. */
export function int(def: number, range: NumberRange = {}): Field<number> {
  return {
    default: def,
    doc: range.doc,
    parse(raw) {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return { problem: 'expected an integer' };
      const problem = rangeProblem(n, range);
      return problem ? { problem } : { value: n };
    },
  };
}

/** A number field (seconds, ratios). */
export function num(def: number, range: NumberRange = {}): Field<number> {
  return {
    default: def,
    doc: range.doc,
    parse(raw) {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return { problem: 'expected a number' };
      const problem = rangeProblem(n, range);
      return problem ? { problem } : { value: n };
    },
  };
}

const TRUE_VALUES = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE_VALUES = new Set(['false', '0', 'no', 'off', 'f', 'n']);

/** Swift's `config_true_value`: `true`, `yes`, `on`, `1`, `t`, `y` (any case). */
export function isTrueValue(value: string | undefined): boolean {
  return value !== undefined && TRUE_VALUES.has(value.trim().toLowerCase());
}

/** A boolean field; accepts Swift's spellings (`true`, `yes`, `on`, `1`, ...). */
export function bool(def: boolean, doc?: string): Field<boolean> {
  return {
    default: def,
    doc,
    parse(raw) {
      if (typeof raw === 'boolean') return { value: raw };
      const s = String(raw).trim().toLowerCase();
      if (TRUE_VALUES.has(s)) return { value: true };
      if (FALSE_VALUES.has(s)) return { value: false };
      return { problem: 'expected true or false' };
    },
  };
}

/** A string field, optionally required to be non-empty. */
export function str(def: string, options: { doc?: string; nonEmpty?: boolean } = {}): Field<string> {
  return {
    default: def,
    doc: options.doc,
    parse(raw) {
      if (typeof raw !== 'string' && typeof raw !== 'number') return { problem: 'expected a string' };
      const s = String(raw).trim();
      if (options.nonEmpty && s === '') return { problem: 'must not be empty' };
      return { value: s };
    },
  };
}

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(def: T, allowed: readonly T[], doc?: string): Field<T> {
  return {
    default: def,
    doc,
    parse(raw) {
      const s = String(raw).trim();
      return (allowed as readonly string[]).includes(s) ? { value: s as T } : { problem: `expected one of ${allowed.join(', ')}` };
    },
  };
}

/** A list: a JSON array, or a string split on commas and/or whitespace. */
export function list(def: readonly string[], doc?: string): Field<readonly string[]> {
  return {
    default: Object.freeze([...def]),
    doc,
    parse(raw) {
      if (Array.isArray(raw)) return { value: Object.freeze(raw.map(String)) };
      if (typeof raw !== 'string') return { problem: 'expected a list' };
      return { value: Object.freeze(raw.split(/[\s,]+/).filter((s) => s !== '')) };
    },
  };
}

/** Raw sections as read from a file: section → key → value. */
export type RawConfig = Record<string, Record<string, unknown>>;

/**
 * Parses Swift-style INI: `[section]`, `key = value`, `#`/`;` comments, indented lines
 * continuing the value above (joined with newlines, as Python's configparser does; Swift's
 * `cross_domain_policy` is written that way). Keys in `[DEFAULT]` apply to every section that
 * declares them.
 */
export function parseIni(text: string, source = 'config'): RawConfig {
  const out: RawConfig = {};
  let section: Record<string, unknown> | undefined;
  // The key an indented line continues (Python's configparser); a blank line ends it.
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.trim();
    if (line === '') lastKey = undefined;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (/^[ \t]/.test(raw) && section && lastKey !== undefined) {
      section[lastKey] = `${String(section[lastKey])}\n${line}`;
      continue;
    }
    lastKey = undefined;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = (header[1] ?? '').trim();
      section = out[name] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${source}:${i + 1}`, line, 'expected "key = value" or "[section]"');
    if (!section) throw new ConfigError(`${source}:${i + 1}`, line, 'a key must come after a [section] header');
    lastKey = line.slice(0, eq).trim();
    section[lastKey] = line.slice(eq + 1).trim();
  }
  return out;
}

export interface ValidateOptions {
  /**
   * Sections other roles read (a node's file may hold several roles' sections): with this
   * list, any section that neither the schemas nor it names is refused, so a misspelled
   * `[object-sever]` stops the process instead of leaving it on defaults. Names ending in `*`
   * are prefixes (`storage-policy:*`). Without it, unknown sections are ignored.
   */
  readonly otherSections?: readonly string[];
}

/**
 * Validates raw sections against schemas: every declared section gets every key, a default
 * where the file is silent. An unknown key inside a declared section is an error; an unknown
 * section is one when `options.otherSections` is given.
 * @throws {ConfigError} naming `section.key` and the bad value.
 */
export function validateConfig<M extends Schemas>(raw: RawConfig, schemas: M, options: ValidateOptions = {}): ConfigsOf<M> {
  if (options.otherSections) checkSections(raw, [...Object.keys(schemas), ...options.otherSections]);
  const result: Record<string, unknown> = {};
  for (const [sectionName, schema] of Object.entries(schemas)) {
    if (!sectionName.endsWith('*')) {
      result[sectionName] = validateSection(raw, sectionName, schema);
      continue;
    }
    const prefix = sectionName.slice(0, -1);
    const family: Record<string, unknown> = {};
    for (const name of Object.keys(raw)) if (matchesPattern(name, sectionName)) family[name.slice(prefix.length)] = validateSection(raw, name, schema);
    result[sectionName] = Object.freeze(family);
  }
  return Object.freeze(result) as ConfigsOf<M>;
}

/** One section against its schema (see `validateConfig`). */
function validateSection(raw: RawConfig, sectionName: string, schema: Schema): unknown {
  const defaults = raw['DEFAULT'] ?? {};
  const given = raw[sectionName] ?? {};
  const patterns = Object.entries(schema).filter(([k]) => k.includes('*'));
  const patternOf = (key: string): string | undefined => patterns.find(([p]) => matchesPattern(key, p))?.[0];
  for (const key of Object.keys(given)) {
    if (!(key in schema) && patternOf(key) === undefined) throw new ConfigError(`${sectionName}.${key}`, given[key], 'unknown key');
  }
  const section: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    if (key.includes('*')) {
      const item = (field as PatternField<unknown>).item;
      const matches: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(given)) {
        if (patternOf(k) !== key) continue;
        const parsed = item.parse(v);
        if ('problem' in parsed) throw new ConfigError(`${sectionName}.${k}`, v, parsed.problem);
        matches[k] = parsed.value;
      }
      section[key] = Object.freeze(matches);
      continue;
    }
    const value = key in given ? given[key] : key in defaults ? defaults[key] : undefined;
    if (value === undefined) {
      section[key] = field.default;
      continue;
    }
    const parsed = field.parse(value);
    if ('problem' in parsed) throw new ConfigError(`${sectionName}.${key}`, value, problemOf(parsed.problem, value));
    section[key] = parsed.value;
  }
  return Object.freeze(section);
}

/** Whether `key` fits `pattern`, whose one `*` stands for at least one character. */
function matchesPattern(key: string, pattern: string): boolean {
  const star = pattern.indexOf('*');
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return key.length > head.length + tail.length && key.startsWith(head) && key.endsWith(tail);
}

/**
 * Swift reads its configs with Python 3's ConfigParser, which keeps `; ...` after a value as
 * part of it: a comment goes on its own line. A value that fails to parse and looks like it
 * holds one says so (a value may contain `;` or `#` on purpose, a key for instance).
 */
function problemOf(problem: string, value: unknown): string {
  return typeof value === 'string' && /\s[;#]/.test(value) ? `${problem} (comments go on their own line: "key = value ; comment" makes the comment part of the value)` : problem;
}

function checkSections(raw: RawConfig, known: readonly string[]): void {
  const isKnown = (name: string): boolean => name === 'DEFAULT' || known.some((k) => (k.includes('*') ? matchesPattern(name, k) : name === k));
  for (const name of Object.keys(raw)) {
    if (isKnown(name)) continue;
    const near = known.filter((k) => !k.includes('*')).sort((a, b) => editDistance(name, a) - editDistance(name, b))[0];
    const hint = near !== undefined && editDistance(name, near) <= 3 ? `did you mean [${near}]?` : `known sections: ${known.map((k) => `[${k}]`).join(' ')}`;
    throw new ConfigError(`[${name}]`, undefined, `unknown section; ${hint}`);
  }
}

/** Levenshtein distance, for "did you mean" on a misspelled section. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length] ?? 0;
}

/** The defaults of every section, as if the file were empty. */
export function defaultConfig<M extends Schemas>(schemas: M): ConfigsOf<M> {
  return validateConfig({}, schemas);
}

/** Reads a `.json` or INI file and validates it. */
export function loadConfigFile<M extends Schemas>(path: string, schemas: M, options: ValidateOptions = {}): ConfigsOf<M> {
  return validateConfig(readConfigFile(path), schemas, options);
}

/** A `.json` or INI file's raw sections. @throws {ConfigError} when it cannot be read or parsed. */
export function readConfigFile(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, undefined, `cannot read the config file (${(err as Error).message})`, { cause: err });
  }
  return parseConfigText(text, path);
}

/** Parses config text: JSON when the file name ends in `.json`, INI otherwise. */
export function parseConfigText(text: string, source: string): RawConfig {
  if (!source.endsWith('.json')) return parseIni(text, source);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('top level must be an object of sections');
    return parsed as RawConfig;
  } catch (err) {
    throw new ConfigError(source, undefined, `not valid JSON config (${(err as Error).message})`, { cause: err });
  }
}

/** The cluster's own file in every node's `swift_dir`, holding `[swift-hash]` (Swift's `swift.conf`). */
export const CLUSTER_CONF = 'swiftlet.conf';

/** The cluster-wide section every node shares: the hash path secret (Swift's `[swift-hash]`). */
export const swiftHashSchema = {
  swift_hash_path_prefix: str('', { doc: 'secret salt before every hashed path; the same on every node' }),
  swift_hash_path_suffix: str('', { doc: 'secret salt after every hashed path; the same on every node' }),
} as const satisfies Schema;
