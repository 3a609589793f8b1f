import type { HeaderBag } from '../../common/constraints.ts';
import type { RequestContext } from '../../common/token/request-context.ts';
import type { ResponseBody } from '../../common/http/server.ts';

/** A request as the image API's handlers see it: routed, its caller known. */
export interface ImageRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly rawQuery: string;
  readonly headers: HeaderBag;
  readonly params: Readonly<Record<string, string>>;
  readonly context: RequestContext;
  /** The body, unread: JSON handlers call `json()`, uploads stream it. */
  readonly body: AsyncIterable<Uint8Array>;
  json(): Promise<unknown>;
  /** `http://host:port` of this service as the client reached it. */
  readonly base: string;
}

export interface ImageResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON (an object) or raw bytes/stream. */
  readonly json?: unknown;
  readonly body?: ResponseBody;
  /**
   * The body's chunks are the cluster's socket reads and nothing else holds them: the server
   * frees each once written (`ServerResponse.given`) instead of leaving it to the collector.
   */
  readonly given?: boolean;
}

export type ImageRouteHandler = (req: ImageRequest) => Promise<ImageResponse>;

/** An image API route; `auth: 'none'` for version discovery, every other route needs a token. */
export interface ImageRoute {
  readonly method: string;
  readonly path: string;
  readonly auth?: 'none';
  readonly handler: ImageRouteHandler;
}
