import { splitArgs, unknownFlag } from '../common/cli-args.ts';
import { DEFAULT_MAX_ACTIVE_KEYS, fernetRotate, fernetSetup, loadFernetKeys } from '../common/token/key-repository.ts';
import { loadIdentityConfig } from './node-config.ts';

const USAGE = `usage: swiftlet identity-manage <command> (--key-repository DIR | --config FILE)

  fernet_setup    create the Fernet key repository (a staged and a primary key), once
  fernet_rotate   the staged key becomes primary, a new one is staged, the oldest go beyond
                  --max-active-keys (default: the config's max_active_keys, else 3); then
                  copy the directory to every identity node and proxy

as keystone-manage's commands of those names.`;

/** `swiftlet identity-manage fernet_setup|fernet_rotate`: the key repository, as keystone-manage keeps it. */
export function runIdentityManage(argv: readonly string[], io: { out(line: string): void; err(line: string): void }): number {
  const { positional, flags } = splitArgs(argv, new Set(['key-repository', 'config', 'max-active-keys']));
  const unknown = unknownFlag(flags, ['key-repository', 'config', 'max-active-keys', 'help']);
  const [command] = positional;
  if (flags.has('help') || command === undefined || unknown !== undefined) {
    (unknown !== undefined || command === undefined ? io.err : io.out)(USAGE);
    return flags.has('help') ? 0 : 2;
  }
  const config = flags.has('config') ? loadIdentityConfig(flags.get('config') as string).identity : undefined;
  const dir = flags.get('key-repository') ?? config?.key_repository;
  if (dir === undefined || dir === '') {
    io.err(`${USAGE}\n\nwhich key repository? give --key-repository or --config`);
    return 2;
  }
  if (command === 'fernet_setup') {
    io.out(fernetSetup(dir) ? `created the key repository ${dir}` : `${dir} already has keys; nothing changed`);
    return 0;
  }
  if (command === 'fernet_rotate') {
    const max = Number(flags.get('max-active-keys') ?? config?.max_active_keys ?? DEFAULT_MAX_ACTIVE_KEYS);
    if (!Number.isInteger(max) || max < 2) {
      io.err('--max-active-keys must be an integer of at least 2');
      return 2;
    }
    fernetRotate(dir, max);
    io.out(`rotated ${dir}: ${loadFernetKeys(dir).length} keys; copy it to every identity node and proxy`);
    return 0;
  }
  io.err(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  return 2;
}
