import { createHash } from 'node:crypto';
import { BackendError } from '../../common/errors.ts';
import type { BackendBodyStream, BackendClient, BackendNode, BackendRequest, BackendResponse, BackendUpload } from '../../common/http/backend-client.ts';

/**
 * What a fake node does with one request: answer, or fail to connect. With `afterBytes`, it
 * answers once that much of the body arrived and reads no more (a disk that filled up). With
 * `breaksAfter`, its answer's body stops after that many bytes with an error (a node that died
 * mid-answer).
 */
export type FakeBehaviour = { status: number; headers?: Record<string, string>; body?: string; afterBytes?: number; breaksAfter?: number } | 'refuse';

export interface RecordedRequest {
  readonly node: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The request body as received (read fully before answering). */
  readonly body: Buffer;
}

/**
 * A scripted BackendClient (Swift's `fake_http_connect`): `script(node, request)` decides each
 * answer. Request bodies are read in full before answering, as a storage node would (but see
 * `afterBytes`); answers
 * to PUTs carry the MD5 of what arrived as `etag` unless the script sets one.
 */
export function fakeBackend(script: (node: string, request: BackendRequest) => FakeBehaviour, options: { upload?: boolean } = {}): BackendClient & { readonly requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const client: BackendClient & { readonly requests: RecordedRequest[] } = {
    requests,
    async request(node: BackendNode, request: BackendRequest): Promise<BackendResponse> {
      const key = `${node.ip}:${node.port}`;
      const behaviour = script(key, request);
      if (behaviour === 'refuse') throw new BackendError('BACKEND_CONNECT', key, 'connection failed (ECONNREFUSED)');
      const chunks: Buffer[] = [];
      const body = request.body;
      if (typeof body === 'string' || body instanceof Uint8Array) chunks.push(Buffer.from(body));
      else if (body) {
        // Not `for await`: leaving that loop would destroy the stream the proxy still writes to.
        const iterator = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
        let bytes = 0;
        while (behaviour.afterBytes === undefined || bytes < behaviour.afterBytes) {
          const step = await iterator.next();
          if (step.done) break;
          chunks.push(Buffer.from(step.value));
          bytes += step.value.length;
        }
      }
      const received = Buffer.concat(chunks);
      requests.push({ node: key, method: request.method, path: request.path, headers: { ...request.headers }, body: received });
      const headers: Record<string, string> = { ...(request.method === 'PUT' ? { etag: createHash('md5').update(received).digest('hex') } : {}), ...behaviour.headers };
      return { status: behaviour.status, headers, body: behaviour.breaksAfter === undefined ? bodyStream(behaviour.body ?? '') : brokenStream(key, Buffer.from(behaviour.body ?? '').subarray(0, behaviour.breaksAfter)) };
    },
    async close() {},
  };
  // `upload` as a real connection has it: a write resolves once the node has taken the piece
  // (here: copied it and asked for the next), so a caller that releases too early is caught.
  if (options.upload) {
    client.upload = (node, request) => {
      const queue: { chunk: Uint8Array; taken: (sent: boolean) => void }[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      let failed: Error | undefined;
      const controller = new AbortController();
      async function* body(): AsyncGenerator<Uint8Array> {
        for (;;) {
          const next = queue.shift();
          if (next) {
            yield next.chunk;
            next.taken(true);
            continue;
          }
          if (ended || failed) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      }
      const response = client.request(node, { ...request, body: body() });
      response.catch(() => undefined);
      const upload: BackendUpload = {
        write: (chunk) => new Promise((taken) => {
          if (failed) return taken(false);
          queue.push({ chunk, taken });
          wake?.();
        }),
        end: () => {
          ended = true;
          wake?.();
        },
        destroy: (reason) => {
          failed ??= reason;
          for (const q of queue.splice(0)) q.taken(false);
          wake?.();
          controller.abort(reason);
        },
        response: Promise.race([response, new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new BackendError('BACKEND_ABORTED', `${node.ip}:${node.port}`, 'aborted'))))]),
      };
      upload.response.catch(() => undefined);
      return upload;
    };
  }
  return client;
}

function bodyStream(text: string): BackendBodyStream {
  const buf = Buffer.from(text);
  return {
    async *[Symbol.asyncIterator]() {
      if (buf.length > 0) yield buf;
    },
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    bytes: async () => buf,
    dump: async () => {},
  };
}

/** A body that sends `start`, then fails as a connection cut off would. */
function brokenStream(node: string, start: Buffer): BackendBodyStream {
  const broken = (): BackendError => new BackendError('BACKEND_IO', node, `body cut off after ${start.length} bytes`);
  return {
    async *[Symbol.asyncIterator]() {
      if (start.length > 0) yield start;
      throw broken();
    },
    text: async () => Promise.reject(broken()),
    json: async () => Promise.reject(broken()),
    bytes: async () => Promise.reject(broken()),
    dump: async () => {},
  };
}
