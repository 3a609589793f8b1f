import { constants, enableCompileCache } from 'node:module';

/**
 * Node's module compile cache for every `swiftlet` process (imported second by the `swiftlet`
 * command, before any command's modules load; they load by `import()` after it).
 *
 * Node strips the types of each `.ts` file with a WebAssembly build of swc and compiles the
 * result every time a process starts: about 2-4 CPU seconds per process for this code base,
 * nine processes in `swiftlet aio`, and again for each proxy worker a supervisor replaces.
 * The cache keeps the stripped source and V8's code cache on disk, keyed by each file's
 * contents, so an edited file is simply compiled again. Its directory is Node's default
 * (`<tmpdir>/node-compile-cache`) unless `NODE_COMPILE_CACHE` names another;
 * `NODE_DISABLE_COMPILE_CACHE=1` turns it off. Failing to enable it only costs the time.
 *
 * The directory is also handed to every child process through `NODE_COMPILE_CACHE`, so a child
 * takes even its entry module (`swiftlet.ts`, loaded before this line runs) from the cache. A
 * process whose every module is cached never loads swc at all: ~17-20 MB less resident for
 * each of the aio's processes (docs/performance.md, "Type stripping's memory").
 */
const cache = enableCompileCache();
if ((cache.status === constants.compileCacheStatus.ENABLED || cache.status === constants.compileCacheStatus.ALREADY_ENABLED) && cache.directory !== undefined) {
  process.env.NODE_COMPILE_CACHE ??= cache.directory;
}
