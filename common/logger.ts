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
  const min = LEVELS[options.level ?? 'info'];
  const sink = options.sink ?? stderrSink();
  const clock = options.clock ?? systemClock;
  const make = (bound: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (LEVELS[level] < min) return;
      const record: Record<string, unknown> = { time: new Date(clock.now()).toISOString(), level, ...bound, msg };
      if (fields) {
        for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? describeError(v) : v;
      }
      sink(JSON.stringify(record));
    };
    return {
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      warn: (msg, fields) => write('warn', msg, fields),
      error: (msg, fields) => write('error', msg, fields),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make(options.fields ?? {});
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
