import { basename } from 'node:path';

/** A storage node's name from its config file's path (`etc/node1.conf` is `node1`). */
export function nodeName(configPath: string): string {
  return basename(configPath).replace(/\.conf$/, '');
}
