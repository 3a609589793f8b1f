import { setFlagsFromString } from 'node:v8';

/**
 * A V8 flag for the roles that relay large bodies, the proxy (`swiftlet start proxy`) and the
 * image service (`swiftlet start image`), imported first by the `swiftlet` command so it is
 * set before any other module loads.
 *
 * By default V8 starts a full mark-compact each time buffer memory outside its heap grows by
 * a fixed step (about 64 MB), however small the heap. A proxy relaying large objects at
 * ~300 MB/s per worker allocates a 64 KiB buffer per socket read (undici's, not ours to
 * reuse) and so marked its whole heap several times a second: 21-24 full collections per GiB
 * relayed, about half of its CPU in a 64 MiB GET. Counting external memory in V8's global
 * limit lets that step grow with the heap's own limit: 5-15 per GiB, resident size unchanged
 * (`--trace-gc` under `../shared/anchors/wrk-bench/large-objects.sh`). The image service
 * relays every uploaded byte the same way (node's HTTP parser copies each body piece into a
 * new buffer): 40-43 full collections per GiB uploaded without the flag, 16-17 with it.
 * Storage nodes need no flag: they lend their read buffers and release received chunks
 * themselves.
 */
if (process.argv[2] === 'start' && (process.argv[3] === 'proxy' || process.argv[3] === 'image')) setFlagsFromString('--external-memory-accounted-in-global-limit');
