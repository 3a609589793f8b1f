import { wrapChunks } from './lendable-body.ts';
import type { ResponseBody } from './server.ts';

/**
 * A response body that reports its byte count once it ends: read to the end, stopped early
 * (the client left) or failed. Strings and bytes are reported at once. Hand-written rather
 * than a generator: the server calls `return()` on a body it does not send (HEAD), and an
 * unstarted generator would neither report nor pass that on to free the source. Counting only
 * looks at the chunks, so a body that can lend them (`lendable-body.ts`) still can.
 */
export function countedBody(body: ResponseBody, done: (bytes: number) => void): ResponseBody {
  if (body === undefined || body === null) {
    done(0);
    return body;
  }
  if (typeof body === 'string') {
    done(Buffer.byteLength(body));
    return body;
  }
  if (body instanceof Uint8Array) {
    done(body.byteLength);
    return body;
  }
  return wrapChunks(body, (it) => {
    let bytes = 0;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      done(bytes);
    };
    return {
      async next() {
        try {
          const step = await it.next();
          if (step.done) finish();
          else bytes += step.value.byteLength;
          return step;
        } catch (err) {
          finish();
          throw err;
        }
      },
      async return(value?: unknown) {
        finish();
        return (await it.return?.(value)) ?? { done: true as const, value: undefined };
      },
    };
  });
}
