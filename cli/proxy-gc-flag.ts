import { setFlagsFromString } from 'node:v8';

/**
 * A V8 flag for the proxy (`swiftlet start proxy`), imported first by the `swiftlet` command
 * so it is set before any other module loads.
 *
 * By default V8 starts a full mark-compact each time buffer memory outside its heap grows by
 * a fixed step (about 64 MB), however small the heap. A proxy relaying large objects at
 * ~300 MB/s per worker allocates a 64 KiB buffer per socket read (undici's, not ours to
 * reuse) and so marked its whole heap several times a second: 21-24 full collections per GiB
 * relayed, about half of its CPU in a 64 MiB GET. Counting external memory in V8's global
 * limit lets that step grow with the heap's own limit: 5-15 per GiB, resident size unchanged
 * (`--trace-gc` under `../shared/anchors/wrk-bench/large-objects.sh`). Storage nodes need no
 * flag: they lend their read buffers and release received chunks themselves.
 */
if (process.argv[2] === 'start' && process.argv[3] === 'proxy') setFlagsFromString('--external-memory-accounted-in-global-limit');
