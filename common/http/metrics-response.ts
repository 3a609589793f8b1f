import type { ServerResponse } from './server.ts';

/** Prometheus's text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The answer to `GET /metrics` (proxy and storage nodes alike): the text a registry renders.
 * Like `/healthcheck` and recon it takes no token; keep it to the operators' network.
 */
export async function metricsResponse(method: string, text: () => Promise<string>): Promise<ServerResponse> {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=UTF-8' }, body: 'Method Not Allowed' };
  const body = await text();
  return { status: 200, headers: { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) }, body: method === 'HEAD' ? null : body };
}
