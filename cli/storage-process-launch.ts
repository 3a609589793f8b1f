/**
 * How `swiftlet aio` starts a storage process: the Node flags and environment that bound its
 * memory (docs/decisions.md, "The storage process's memory"). A node started by a supervisor
 * (`swiftlet start storage`) wants the same, given by its unit file; neither can be set from
 * inside the process, since V8 sizes its young generation and glibc its arenas before any
 * module runs.
 *
 * - `--max-semi-space-size`: under a 4 KiB PUT flood V8 grew the young generation to its
 *   default bound (two 64 MiB semi-spaces on this machine, ~114 MB resident) and kept it;
 *   16 MiB semi-spaces hold it at ~34 MB. A process of one node (a real cluster's shape)
 *   allocates a quarter as fast as the aio's process of four and takes 8 MiB: ~15 MB lower
 *   peaks, no more CPU per small PUT (docs/performance.md, "One node's young generation").
 * - `MALLOC_ARENA_MAX=2`: LevelDB's and libuv's threads each got a malloc arena of their own
 *   (up to 15 in one process, ~73 MB resident, much of it free but not returned); two
 *   arenas hold the same allocations in less.
 */
/** The Node flags of a storage process running `nodes` storage nodes. */
export function storageProcessNodeFlags(nodes: number): readonly string[] {
  return [`--max-semi-space-size=${nodes > 1 ? 16 : 8}`];
}

export const STORAGE_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
