import { type ExecFileException, execFile } from 'node:child_process';

/**
 * Runs a host tool (`mkfs`, `genisoimage`...) in the C locale, so its messages are not
 * translated; a failure rejects with what `failed` makes of the error and the tool's stderr.
 */
export function runTool(command: string, args: readonly string[], failed: (err: ExecFileException, stderr: string) => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 1024 * 1024, env: { ...process.env, LC_ALL: 'C', LANG: 'C' } }, (err, _stdout, stderr) => {
      if (err) reject(failed(err, String(stderr).trim()));
      else resolve();
    });
  });
}
