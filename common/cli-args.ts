/**
 * Splits command-line arguments: `--flag value` (for flags in `valueFlags`), `--flag=value`,
 * and bare `--flag` (value ''); everything else is positional, in order. A flag given more
 * than once keeps its last value in `flags` and every value, in order, in `repeated`.
 */
export function splitArgs(argv: readonly string[], valueFlags: ReadonlySet<string>): { positional: string[]; flags: Map<string, string>; repeated: Map<string, string[]> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const set = (name: string, value: string): void => {
    flags.set(name, value);
    repeated.set(name, [...(repeated.get(name) ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq !== -1) set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (valueFlags.has(arg.slice(2)) && i + 1 < argv.length) set(arg.slice(2), argv[++i] as string);
    else set(arg.slice(2), '');
  }
  return { positional, flags, repeated };
}

/** The first flag not in `allowed`, so a typo is refused rather than silently ignored. */
export function unknownFlag(flags: ReadonlyMap<string, string>, allowed: readonly string[]): string | undefined {
  for (const name of flags.keys()) if (!allowed.includes(name)) return name;
  return undefined;
}
