import type { Clock } from '../../common/clock.ts';
import type { ListingContentType } from '../../common/listing-format.ts';
import { type BulkResult, renderBulkResult } from './bulk-response.ts';

/**
 * The body of a bulk answer (Swift's heartbeat): the rendered result once `work` is done,
 * preceded by keep-alive output for every `intervalMs` of waiting, so clients and load
 * balancers do not give up on a long request. As in Swift, the first keep-alive chunk of an
 * XML answer is the XML declaration and later ones are spaces; once any went out, the result
 * follows a blank line. The status line went out with the first chunk, so the real outcome is
 * in the body.
 */
export async function* keepAliveBody(clock: Clock, format: ListingContentType | undefined, rootTag: 'delete' | 'extract', intervalMs: number, signal: AbortSignal, work: () => Promise<BulkResult>): AsyncGenerator<Uint8Array> {
  let toYield = format?.endsWith('/xml') ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ' ';
  let separator = '';
  let result: BulkResult | undefined;
  const done = work().then((r) => {
    result = r;
  });
  for (;;) {
    const stop = new AbortController();
    const tick = clock.sleep(intervalMs, AbortSignal.any([stop.signal, signal])).then(() => true, () => false);
    const ticked = await Promise.race([done.then(() => false), tick]);
    stop.abort();
    if (!ticked) break;
    yield Buffer.from(toYield);
    toYield = ' ';
    separator = '\r\n\r\n';
  }
  await done;
  yield Buffer.from(separator + renderBulkResult(format, result as BulkResult, rootTag));
}
