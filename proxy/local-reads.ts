import type { LocalDataFiles } from '../common/http/local-file-read.ts';

/** The proxy's local reads: the files it was given, and what became of each read, for its metrics. */
export interface LocalReads extends LocalDataFiles {
  /** One body read whole from a local file (`local`) or moved to HTTP after a failure (`fallback`). */
  observe(outcome: 'local' | 'fallback'): void;
}
