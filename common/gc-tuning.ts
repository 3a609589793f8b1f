import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags for the long-running servers, set before they start serving.
 *
 * By default V8 starts a full mark-compact each time buffer memory outside its heap grows by
 * a fixed step (about 64 MB), however small the heap: a proxy relaying large objects at
 * 300 MB/s per worker allocates a 64 KiB buffer per socket read and so marked its whole heap
 * ~5 times a second (22 full collections per GiB relayed, half of the proxy's CPU in a
 * 64 MiB GET). Counting external memory in V8's global limit instead lets it grow with the
 * heap's own limit: 6-8 full collections per GiB, no more resident memory (both measured
 * with `--trace-gc` under `../shared/anchors/wrk-bench/large-objects.sh`).
 */
export function tuneGcForServers(): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
