import { reasonPhrase } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { ListingContentType } from '../../common/listing-format.ts';
import { resultBody } from './result-body.ts';

/**
 * The body of a bulk answer, rendered byte for byte as Swift's bulk middleware renders it
 * (`get_response_body`): the result fields and the list of failures, as JSON, XML or plain
 * text.
 */
export interface BulkResult {
  /** Fields in Swift's order: `Response Status`, `Response Body`, then the counts. */
  readonly fields: ReadonlyArray<readonly [string, string | number]>;
  /** `[quoted name, status line]` per failure, in the order they happened. */
  readonly errors: ReadonlyArray<readonly [string, string]>;
}

/**
 * Renders a bulk result the way Swift does (`get_response_body`, shared with SLO: see
 * `resultBody`), under `<delete>` or `<extract>` in XML.
 */
export function renderBulkResult(format: ListingContentType | undefined, result: BulkResult, rootTag: 'delete' | 'extract'): string {
  return resultBody(format, Object.fromEntries(result.fields), result.errors, rootTag);
}

/** A status line as Swift's swob writes it (`404 Not Found`). */
export function statusLine(status: number): string {
  return `${status} ${reasonPhrase(status)}`;
}

/** A whole bulk answer with `status` and the rendered result. */
export function bulkAnswer(status: number, format: ListingContentType | undefined, result: BulkResult, rootTag: 'delete' | 'extract'): ServerResponse {
  return { status, headers: { 'Content-Type': `${format ?? 'text/plain'}; charset=utf-8` }, body: renderBulkResult(format, result, rootTag) };
}
