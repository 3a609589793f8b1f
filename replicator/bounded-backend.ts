import type { BackendClient } from '../common/http/backend-client.ts';

/** What every request of a daemon pass gets unless it says otherwise. */
export interface RequestBounds {
  /** The daemon's `node_timeout`, in ms: for headers, and between body chunks. */
  readonly timeoutMs: number;
  /** The pass's signal: `stop()` aborts the requests in flight. */
  readonly signal?: AbortSignal;
}

/**
 * The node's `BackendClient` with a daemon's timeout and its pass's abort signal on every
 * request, so helpers that build requests themselves (the replication RPC client) still honour
 * them. Closing it does not close the node's client.
 */
export function boundedBackend(backend: BackendClient, bounds: RequestBounds): BackendClient {
  return {
    request: (node, request) =>
      backend.request(node, {
        ...request,
        timeoutMs: request.timeoutMs ?? bounds.timeoutMs,
        bodyTimeoutMs: request.bodyTimeoutMs ?? bounds.timeoutMs,
        ...(request.signal ?? bounds.signal ? { signal: request.signal ?? bounds.signal } : {}),
      }),
    close: async () => {},
  };
}
