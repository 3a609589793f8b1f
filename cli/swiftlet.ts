#!/usr/bin/env node
/**
 * The `swiftlet` command: one entry point for operators.
 *
 *   swiftlet ring ...      build and inspect rings (like swift-ring-builder, swift-get-nodes)
 */
import { systemClock } from '../common/clock.ts';
import { runRingCommand } from '../ring/cli.ts';

const HELP = `usage: swiftlet <command> [args]

  ring      build and inspect rings (swiftlet ring help)`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { out: (l: string) => process.stdout.write(`${l}\n`), err: (l: string) => process.stderr.write(`${l}\n`), clock: systemClock };
  switch (command) {
    case 'ring':
      return runRingCommand(rest, io);
    case undefined:
    case 'help':
    case '--help':
      io.out(HELP);
      return command === undefined ? 2 : 0;
    default:
      io.err(`unknown command ${JSON.stringify(command)}\n${HELP}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
