import { enableCompileCache } from 'node:module';

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
 */
enableCompileCache();
