#!/usr/bin/env node
/**
 * The `swiftlet` command: one entry point for operators.
 *
 *   swiftlet aio [--data DIR] [--port 8080]     a whole cluster on this machine
 *   swiftlet start storage|proxy --config FILE  one role of a real node
 *   swiftlet ring ...                           build and inspect rings (like swift-ring-builder)
 */
import { splitArgs } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { SwiftError } from '../common/errors.ts';
import { runRingCommand } from '../ring/cli.ts';
import { runAio } from './aio.ts';
import { start } from './start.ts';

const HELP = `usage: swiftlet <command> [args]

  aio [--data DIR] [--port PORT]       start a cluster on 127.0.0.1: proxy on PORT (8080), 4 storage nodes,
      [--storage-port-base N]          data in DIR (./data); Ctrl-C stops it. Storage ports N+10..N+42
                                       (6310-6342), chosen when the cluster is first created
  start storage|proxy --config FILE    run one role of a node
  ring ...                             build and inspect rings (swiftlet ring help)`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { out: (l: string) => process.stdout.write(`${l}\n`), err: (l: string) => process.stderr.write(`${l}\n`), clock: systemClock };
  try {
    switch (command) {
      case 'ring':
        return await runRingCommand(rest, io);
      case 'aio': {
        const { flags } = splitArgs(rest, new Set(['data', 'port', 'storage-port-base']));
        const port = Number(flags.get('port') ?? 8080);
        const storagePortBase = Number(flags.get('storage-port-base') ?? 6300);
        if (!Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(storagePortBase) || storagePortBase < 1024 || storagePortBase > 65000) {
          io.err(`invalid --port ${flags.get('port')} or --storage-port-base ${flags.get('storage-port-base')}`);
          return 2;
        }
        return await runAio({ data: flags.get('data') ?? 'data', port, storagePortBase, clock: systemClock, out: io.out });
      }
      case 'start': {
        const { positional, flags } = splitArgs(rest, new Set(['config']));
        return await start(positional[0], flags.get('config'), io);
      }
      case undefined:
      case 'help':
      case '--help':
        io.out(HELP);
        return command === undefined ? 2 : 0;
      default:
        io.err(`unknown command ${JSON.stringify(command)}\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof SwiftError) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
