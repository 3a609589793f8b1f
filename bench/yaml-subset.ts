/**
 * A parser for the subset of YAML that scenario files need, so they can be written in YAML
 * without a new dependency. Supported: block mappings and sequences nested by indentation
 * (spaces only), `- key: value` items, flow collections on one line (`[a, b]`,
 * `{PUT: 30, GET: 70}`), single- and double-quoted strings, plain scalars (null/~, true/false,
 * numbers, strings), `#` comments and a leading `---`. Not supported, and refused with the line
 * number: tabs for indentation, anchors and aliases, tags, block scalars (`|`, `>`), multi-line
 * flow collections, several documents.
 */
export class YamlSubsetError extends Error {
  readonly line: number;

  constructor(line: number, problem: string) {
    super(`line ${line}: ${problem}`);
    this.line = line;
    this.name = 'YamlSubsetError';
  }
}

interface Line {
  readonly no: number;
  readonly indent: number;
  readonly text: string;
}

/**
 * Parses `text` into plain JSON-like values.
 * @throws {YamlSubsetError} with the line number, for syntax outside the subset.
 */
export function parseYamlSubset(text: string): unknown {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const no = i + 1;
    const body = stripComment(raw, no).replace(/\s+$/, '');
    if (body.trim() === '' || (lines.length === 0 && body.trim() === '---')) return;
    const indent = /^ */.exec(body)?.[0].length ?? 0;
    if (body[indent] === '\t') throw new YamlSubsetError(no, 'tabs are not allowed for indentation');
    if (body.trim() === '---' || body.trim() === '...') throw new YamlSubsetError(no, 'only one document per file');
    lines.push({ no, indent, text: body.slice(indent) });
  });
  if (lines.length === 0) return null;
  const parser = new BlockParser(lines);
  const value = parser.block((lines[0] as Line).indent);
  const rest = parser.peek();
  if (rest) throw new YamlSubsetError(rest.no, 'unexpected indentation');
  return value;
}

class BlockParser {
  private pos = 0;
  private readonly lines: Line[];

  constructor(lines: Line[]) {
    this.lines = lines;
  }

  peek(): Line | undefined {
    return this.lines[this.pos];
  }

  block(indent: number): unknown {
    const line = this.peek();
    if (!line) return null;
    return isSequenceItem(line.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.peek(); line && line.indent === indent && isSequenceItem(line.text); line = this.peek()) {
      const content = line.text.slice(1).trimStart();
      if (content === '') {
        this.pos++;
        out.push(this.nested(indent, line.no));
      } else if (mappingKeyEnd(content) !== -1) {
        // `- key: value`: the item is a mapping whose keys line up with `key`.
        const column = line.indent + (line.text.length - content.length);
        this.lines[this.pos] = { no: line.no, indent: column, text: content };
        out.push(this.mapping(column));
      } else {
        this.pos++;
        out.push(flowValue(content, line.no));
      }
    }
    return out;
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      if (isSequenceItem(line.text)) throw new YamlSubsetError(line.no, 'a sequence item where a "key: value" line was expected');
      const end = mappingKeyEnd(line.text);
      if (end === -1) throw new YamlSubsetError(line.no, `expected "key: value", got ${JSON.stringify(line.text)}`);
      const key = unquoteKey(line.text.slice(0, end).trim(), line.no);
      if (Object.hasOwn(out, key)) throw new YamlSubsetError(line.no, `duplicate key ${JSON.stringify(key)}`);
      const rest = line.text.slice(end + 1).trim();
      this.pos++;
      if (rest !== '') out[key] = flowValue(rest, line.no);
      else {
        const next = this.peek();
        // YAML lets a sequence under a key sit at the key's own indentation.
        out[key] = next && next.indent === indent && isSequenceItem(next.text) ? this.sequence(indent) : this.nested(indent, line.no);
      }
    }
    return out;
  }

  /** The block under a line at `indent`, or null when the next line is not deeper. */
  private nested(indent: number, no: number): unknown {
    const next = this.peek();
    if (!next || next.indent <= indent) return null;
    const value = this.block(next.indent);
    const after = this.peek();
    if (after && after.indent > indent && after.indent !== next.indent) throw new YamlSubsetError(after.no, `indentation does not match the block that starts on line ${next.no} (under line ${no})`);
    return value;
  }
}

function isSequenceItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** Where the `:` that ends a mapping key is (followed by a space or the end), or -1. */
function mappingKeyEnd(text: string): number {
  if (text.startsWith('{') || text.startsWith('[')) return -1;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && i === 0) quote = c;
    else if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i;
  }
  return -1;
}

function unquoteKey(key: string, no: number): string {
  if (key.startsWith('"') || key.startsWith("'")) {
    const value = flowValue(key, no);
    if (typeof value !== 'string') throw new YamlSubsetError(no, `bad key ${key}`);
    return value;
  }
  if (key === '') throw new YamlSubsetError(no, 'empty key');
  return key;
}

function stripComment(raw: string, no: number): string {
  let quote = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || raw[i - 1] === ' ' || raw[i - 1] === '\t')) return raw.slice(0, i);
  }
  if (quote) throw new YamlSubsetError(no, 'unterminated quoted string');
  return raw;
}

/** A value on one line: a flow collection, a quoted string or a plain scalar. */
function flowValue(text: string, no: number): unknown {
  const reader = new FlowReader(text, no);
  const value = reader.value(false);
  reader.skipSpaces();
  if (!reader.done()) throw new YamlSubsetError(no, `unexpected ${JSON.stringify(text.slice(reader.pos))} after the value`);
  return value;
}

class FlowReader {
  pos = 0;
  private readonly text: string;
  private readonly no: number;

  constructor(text: string, no: number) {
    this.text = text;
    this.no = no;
  }

  done(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpaces(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }

  value(inFlow: boolean): unknown {
    this.skipSpaces();
    const c = this.text[this.pos];
    if (c === '[') return this.list();
    if (c === '{') return this.map();
    if (c === '"' || c === "'") return this.quoted(c);
    if (c === '&' || c === '*' || c === '!' || c === '|' || c === '>') throw new YamlSubsetError(this.no, `"${c}" (anchors, aliases, tags, block scalars) is outside the supported YAML subset`);
    const start = this.pos;
    while (!this.done() && !(inFlow && /[,\]}]/.test(this.text[this.pos] as string))) {
      if (inFlow && this.text[this.pos] === ':' && this.text[this.pos + 1] === ' ') break;
      this.pos++;
    }
    return plainScalar(this.text.slice(start, this.pos).trim());
  }

  private expect(c: string): void {
    this.skipSpaces();
    if (this.text[this.pos] !== c) throw new YamlSubsetError(this.no, `expected "${c}" at column ${this.pos + 1} (flow collections must close on the same line)`);
    this.pos++;
  }

  private list(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipSpaces();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(true));
      this.skipSpaces();
      if (this.text[this.pos] === ',') this.pos++;
      else break;
    }
    this.expect(']');
    return out;
  }

  private map(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipSpaces();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      const key = this.value(true);
      this.skipSpaces();
      if (this.text[this.pos] !== ':') throw new YamlSubsetError(this.no, `expected ":" after key ${JSON.stringify(key)}`);
      this.pos++;
      const name = String(key);
      if (Object.hasOwn(out, name)) throw new YamlSubsetError(this.no, `duplicate key ${JSON.stringify(name)}`);
      out[name] = this.value(true);
      this.skipSpaces();
      if (this.text[this.pos] === ',') this.pos++;
      else break;
    }
    this.expect('}');
    return out;
  }

  private quoted(q: string): string {
    this.pos++;
    let out = '';
    while (!this.done()) {
      const c = this.text[this.pos++] as string;
      if (c === q) {
        if (q === "'" && this.text[this.pos] === "'") {
          out += "'";
          this.pos++;
          continue;
        }
        return out;
      }
      if (c === '\\' && q === '"') {
        const e = this.text[this.pos++];
        const map: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\', '/': '/', r: '\r', '0': '\0' };
        const mapped = e === undefined ? undefined : map[e];
        if (mapped === undefined) throw new YamlSubsetError(this.no, `unsupported escape \\${e ?? ''}`);
        out += mapped;
      } else out += c;
    }
    throw new YamlSubsetError(this.no, 'unterminated quoted string');
  }
}

function plainScalar(text: string): unknown {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(\d[\d_]*)(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text.replace(/_/g, ''));
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  return text;
}
