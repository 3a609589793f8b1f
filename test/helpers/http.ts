export { httpRequest, type TestResponse } from '../../bench/http-request.ts';
/** Sends `text` as-is over a new connection and resolves with the response's status code. */
export function rawStatus(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    import('node:net').then(({ connect }) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
        if (m) {
          socket.destroy();
          resolve(Number(m[1]));
        }
      });
      socket.on('error', reject);
    }, reject);
  });
}

/**
 * Sends `text` as-is over a new connection and resolves with all the server sends back until
 * it closes the connection. With `halfClose` the client ends its side after sending (the
 * server then closes once it has answered); without it, only the server's own close ends it.
 */
export function rawExchange(port: number, text: string | Buffer, halfClose = false): Promise<string> {
  return new Promise((resolve, reject) => {
    import('node:net').then(({ connect }) => {
      const socket = connect(port, '127.0.0.1', () => (halfClose ? socket.end(text) : socket.write(text)));
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    }, reject);
  });
}
