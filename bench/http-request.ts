import { request } from 'node:http';

export interface TestResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Set when the connection broke before the body was complete. */
  readonly error?: Error;
}

/**
 * One HTTP request on a fresh connection, with exactly the given headers (nothing added
 * beyond Host and, for a body, Content-Length unless Transfer-Encoding is set).
 */
export function httpRequest(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const flat = (): Record<string, string> => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
        return out;
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: flat(), body: Buffer.concat(chunks) }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, headers: flat(), body: Buffer.concat(chunks), error }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
