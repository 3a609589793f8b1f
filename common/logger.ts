import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Extra facts on a log line: `txn` (transaction id), `server`, a status, a path, an error. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * A structured logger: one JSON object per line. `child()` binds fields (the transaction id of
 * a request, the server name) so every line of that request carries them, which is how a
 * proxy line is matched with the storage-server lines it caused.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Where each line goes; default standard error. */
  sink?: (line: string) => void;
  clock?: Clock;
  /** Fields on every line. */
  fields?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return new JsonLogger(LEVELS[options.level ?? 'info'], options.sink ?? stderrSink(), new LineTime(options.clock ?? systemClock), options.fields ?? {});
}

/**
 * The logger `createLogger` makes. A proxy makes a child per request (its transaction id) and
 * logs a line per request, so a child is one object whose methods are shared, not a set of
 * closures of its own.
 */
class JsonLogger implements Logger {
  private readonly min: number;
  private readonly sink: (line: string) => void;
  private readonly time: LineTime;
  private readonly bound: LogFields;

  constructor(min: number, sink: (line: string) => void, time: LineTime, bound: LogFields) {
    this.min = min;
    this.sink = sink;
    this.time = time;
    this.bound = bound;
  }

  debug(msg: string, fields?: LogFields): void {
    if (LEVELS.debug >= this.min) this.write('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    if (LEVELS.info >= this.min) this.write('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    if (LEVELS.warn >= this.min) this.write('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    if (LEVELS.error >= this.min) this.write('error', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.min, this.sink, this.time, { ...this.bound, ...fields });
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const record: Record<string, unknown> = { time: this.time.now(), level, ...this.bound, msg };
    if (fields) {
      for (const k in fields) {
        if (!Object.hasOwn(fields, k)) continue;
        const v = fields[k];
        record[k] = v instanceof Error ? describeError(v) : v;
      }
    }
    this.sink(JSON.stringify(record));
  }
}

/**
 * A line's time, ISO 8601 to the millisecond as `Date.toISOString` writes it. The text up to
 * the second is made once per second: a `Date` and its formatting per line were a third of
 * what a line cost.
 */
class LineTime {
  private readonly clock: Clock;
  private second = Number.NaN;
  private prefix = '';

  constructor(clock: Clock) {
    this.clock = clock;
  }

  now(): string {
    const ms = Math.floor(this.clock.now());
    // Years 0-9999 only: beyond them toISOString writes a signed six-digit year.
    if (!(ms >= 0 && ms < 253_402_300_800_000)) return new Date(ms).toISOString();
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    const frac = ms - second * 1000;
    return `${this.prefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  }
}

let stderr: ((line: string) => void) | undefined;

/**
 * Standard error as a log sink, one for the whole process (lines of every logger keep their
 * order), batched (see `batchedSink`). A line that cannot be written is dropped: an unheard
 * 'error' from the stream ends the process, so a full disk under a redirected stderr took the
 * proxy and a storage node down (and a restarted one again at its first line).
 */
function stderrSink(): (line: string) => void {
  if (!stderr) {
    process.stderr.on('error', () => {});
    const sink = batchedSink((chunk) => void process.stderr.write(chunk));
    // Written synchronously (stderr to a file or pipe is): nothing logged is lost at exit.
    process.once('exit', () => sink.flush());
    stderr = sink;
  }
  return stderr;
}

/**
 * A sink that writes the lines logged in one turn of the event loop together, one write for
 * all of them: a proxy under load logs a line per request, and made one system call for each
 * (halved a proxy worker's writes under GETs). `flush` writes what is pending now; a process
 * killed outright loses at most the lines of its last turn.
 */
export function batchedSink(write: (chunk: string) => void, defer: (run: () => void) => void = setImmediate): ((line: string) => void) & { flush(): void } {
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const chunk = `${pending.join('\n')}\n`;
    pending = [];
    write(chunk);
  };
  return Object.assign(
    (line: string): void => {
      if (pending.length === 0) defer(flush);
      pending.push(line);
    },
    { flush },
  );
}

function describeError(err: Error): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(code !== undefined ? { code } : {}), stack: err.stack?.split('\n').slice(1, 4).join(' | ') };
}

/** A logger that writes nothing. */
export const nullLogger: Logger = createLogger({ sink: () => {} });
