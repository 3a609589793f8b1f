/**
 * The steps a document marks for its test: each fenced block right after a comment
 * `<!-- test: ... -->`. What the comment says, after `test:`:
 *
 * - `run on <machine>` | `run on every machine` [`; exit <n>`] [`; output has "<text>"`]:
 *   a shell block run on that machine (by default it must exit 0);
 * - `environment`: shell lines put before every later run block (variables the guide sets once);
 * - `file <path> on every machine[, with its own IP]`: the block is that file's content;
 * - `unit <name>`: a systemd unit; its `ExecStart` is what `systemctl start <name>` runs.
 *
 * Blocks with no such comment are for people only (a `git clone`, a `useradd`).
 */
export type Step =
  | { readonly kind: 'run'; readonly on: string; readonly text: string; readonly exit: number; readonly outputHas?: string; readonly line: number }
  | { readonly kind: 'environment'; readonly text: string; readonly line: number }
  | { readonly kind: 'file'; readonly path: string; readonly ownIp: boolean; readonly text: string; readonly line: number }
  | { readonly kind: 'unit'; readonly name: string; readonly text: string; readonly line: number };

export function markedSteps(markdown: string): Step[] {
  const lines = markdown.split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- test: (.*) -->$/.exec(lines[i] ?? '');
    if (!marker) continue;
    if (!/^```/.test(lines[i + 1] ?? '')) throw new Error(`line ${i + 1}: a test marker must be followed by a fenced block`);
    const start = i + 2;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    const text = lines.slice(start, end).join('\n');
    const spec = (marker[1] ?? '').trim();
    const line = i + 1;
    i = end;
    let m: RegExpExecArray | null;
    if (spec === 'environment') steps.push({ kind: 'environment', text, line });
    else if ((m = /^unit (\S+)$/.exec(spec))) steps.push({ kind: 'unit', name: m[1] as string, text, line });
    else if ((m = /^file (\S+) on every machine(, with its own IP)?$/.exec(spec))) steps.push({ kind: 'file', path: m[1] as string, ownIp: m[2] !== undefined, text, line });
    else if ((m = /^run on (every machine|\S+)((?:; [^;]+)*)$/.exec(spec))) {
      const options = (m[2] ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
      let exit = 0;
      let outputHas: string | undefined;
      for (const o of options) {
        const e = /^exit (\d+)$/.exec(o);
        const out = /^output has "(.*)"$/.exec(o);
        if (e) exit = Number(e[1]);
        else if (out) outputHas = out[1];
        else throw new Error(`line ${line}: unknown test option "${o}"`);
      }
      steps.push({ kind: 'run', on: m[1] as string, text, exit, ...(outputHas !== undefined ? { outputHas } : {}), line });
    } else throw new Error(`line ${line}: unknown test marker "${spec}"`);
  }
  return steps;
}
