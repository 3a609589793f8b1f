import { stat } from 'node:fs/promises';

/**
 * Whether `path` names something, following symbolic links (a dangling link is absent). Any
 * error counts as absent, not only ENOENT: callers use it to poll for or to check a file they
 * can do nothing else about (a pid file, a managed save, a cached image), and treat "cannot
 * tell" as "not there". A caller that must not mistake an unreadable directory for a missing
 * entry uses lstat and tells ENOENT apart itself (sweep-volume-dir.ts's `entryExists`).
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
