/**
 * How `swiftlet aio` starts a storage process: the Node flags and environment that bound its
 * memory (docs/decisions.md, "The storage process's memory"). A node started by a supervisor
 * (`swiftlet start storage`) wants the same, given by its unit file; neither can be set from
 * inside the process, since V8 sizes its young generation and glibc its arenas before any
 * module runs.
 *
 * - `--max-semi-space-size=16`: under a 4 KiB PUT flood V8 grew the young generation to its
 *   default bound (two 64 MiB semi-spaces on this machine, ~114 MB resident) and kept it;
 *   16 MiB semi-spaces hold it at ~34 MB.
 * - `MALLOC_ARENA_MAX=2`: LevelDB's and libuv's threads each got a malloc arena of their own
 *   (up to 15 in one process, ~73 MB resident, much of it free but not returned); two
 *   arenas hold the same allocations in less.
 */
export const STORAGE_PROCESS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

export const STORAGE_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
