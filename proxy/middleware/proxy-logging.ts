import type { Clock } from '../../common/clock.ts';
import { countedBody } from '../../common/http/counted-body.ts';
import { passOfferedPieces } from '../../common/http/offered-pieces.ts';
import { passOwnChunks } from '../../common/release-buffer.ts';
import { type ProxyMetrics, requestType } from '../metrics.ts';
import type { Middleware } from '../request.ts';

/**
 * Swift's proxy-logging: one log line per client request (method, path, status, time, txn)
 * and its metrics (requests, latency, bytes in and out). Both are taken when the response
 * body has ended, so a download's time and bytes are whole (499 when the client left before
 * that). Subrequests are the client
 * request's, not counted again.
 */
export function proxyLogging(clock: Clock, logRequests: boolean, metrics: ProxyMetrics): Middleware {
  return (next) => async (req) => {
    if (req.env.source !== undefined) return next(req);
    const began = clock.monotonic();
    let bytesIn = 0;
    const counting = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const request = counting ? { ...req, body: countedRequestBody(req.body, (n) => (bytesIn += n)) } : req;
    const response = await next(request);
    return {
      ...response,
      body: countedBody(response.body, (bytesOut) => {
        const ms = clock.monotonic() - began;
        // Swift's proxy-logging logs 499 for a client that went away before its answer was
        // whole, whatever the answer was going to be (a 503 of backend requests cut short).
        const status = req.signal.aborted ? 499 : response.status;
        const labels = { type: requestType(req.path), method: req.method, policy: req.env.policyIndex ?? '', status: String(status) };
        metrics.request(labels, ms / 1000, bytesIn, bytesOut);
        if (!logRequests) return;
        req.env.logger.info('request', {
          method: req.method,
          path: req.path,
          status,
          ms: Math.round(ms * 10) / 10,
          bytes_in: bytesIn,
          bytes_out: bytesOut,
          client: req.remoteAddress,
          user: req.env.identity?.user,
        });
      }),
    };
  };
}

/** The request body, counting what the proxy reads of it. */
function countedRequestBody(body: AsyncIterable<Uint8Array>, add: (bytes: number) => void): AsyncIterable<Uint8Array> {
  const wrapper = passOwnChunks(body, {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return {
        async next() {
          const step = await it.next();
          if (!step.done) add(step.value.byteLength);
          return step;
        },
        async return(value?: unknown) {
          return (await it.return?.(value)) ?? { done: true as const, value: undefined };
        },
      };
    },
  });
  return passOfferedPieces(body, wrapper, (piece) => add(piece.byteLength));
}
