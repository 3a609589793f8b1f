import type { ResponseBody } from '../../common/http/server.ts';
import { bodyChunks } from './subresponse.ts';

/** A stream that remembers whether anyone read it, so its owner can free the source if not. */
export interface TrackedBody {
  readonly stream: AsyncIterable<Uint8Array>;
  /** Frees the source unless the stream was read to its end. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Wraps a subrequest's body for handing on as another request's body (a copy's source GET as
 * its PUT's body). The reader pulls chunks from the source one at a time, so backpressure
 * holds end to end. `close()` afterwards frees the source when the reader stopped early or
 * never began (a PUT refused before reading its body): a source generator that was never
 * started cannot release its backend connection by itself.
 */
export function trackBody(body: ResponseBody): TrackedBody {
  const source = bodyChunks(body);
  let started = false;
  let finished = false;
  const stream: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      started = true;
      return {
        next: async () => {
          const step = await source.next();
          if (step.done) finished = true;
          return step;
        },
        return: async () => {
          finished = true;
          await source.return(undefined);
          return { done: true, value: undefined };
        },
      };
    },
  };
  return {
    stream,
    close: async () => {
      if (finished) return;
      finished = true;
      // An unstarted generator ignores return(): take one chunk so the source is open, then
      // close it, which releases the backend stream behind it without reading the rest.
      if (!started) await source.next().catch(() => undefined);
      await source.return(undefined).catch(() => undefined);
    },
  };
}
