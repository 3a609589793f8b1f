import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OPENSTACK_MAX_BODY_BYTES, readJsonBody } from '../../../../common/http/json-body.ts';
import { jsonReply } from '../../../../common/http/json-reply.ts';
import type { ServerRequest } from '../../../../common/http/server.ts';
import { rejects } from '../../../helpers/rejects.ts';

class TooLarge extends Error {}
class Malformed extends Error {}
const errors = { tooLarge: () => new TooLarge(), malformed: () => new Malformed() };

function request(method: string, body: string, headers: Record<string, string> = {}): { req: ServerRequest; consumed: () => boolean } {
  const stream = Readable.from([Buffer.from(body)]);
  const req = { method, path: '/', query: new URLSearchParams(), rawQuery: '', headers, body: stream, remoteAddress: '127.0.0.1', signal: new AbortController().signal } as unknown as ServerRequest;
  return { req, consumed: () => stream.readableEnded };
}

test('a JSON body is parsed; an empty one is undefined', async () => {
  assert.equal(await readJsonBody(request('POST', '{"a": [1]}').req, errors), { a: [1] });
  assert.is(await readJsonBody(request('PUT', '').req, errors), undefined);
});

test('a method that carries no body has it read to the end and ignored', async () => {
  const r = request('GET', '{"ignored": true}');
  assert.is(await readJsonBody(r.req, { ...errors, methods: ['POST', 'PUT'] }), undefined);
  assert.ok(r.consumed());
});

test("a body that is not JSON is the service's malformed error", async () => {
  await rejects(readJsonBody(request('POST', '{"a": ').req, errors), Malformed);
});

test("a declared or actual length over the limit is the service's 413", async () => {
  await rejects(readJsonBody(request('POST', '{}', { 'content-length': String(OPENSTACK_MAX_BODY_BYTES + 1) }).req, errors), TooLarge);
  await rejects(readJsonBody(request('POST', `"${'x'.repeat(100)}"`).req, { ...errors, maxBytes: 50 }), TooLarge);
});

test('jsonReply: a body as JSON (a HEAD gets its length only); no body, Content-Length 0 only when asked', () => {
  const get = jsonReply('GET', 200, { a: 1 }, { 'x-openstack-request-id': 'req-1' });
  assert.equal(get, { status: 200, headers: { 'Content-Type': 'application/json', 'x-openstack-request-id': 'req-1' }, body: '{"a":1}' });
  const head = jsonReply('HEAD', 200, { a: 1 }, {});
  assert.is(head.body, undefined);
  assert.is(head.headers?.['Content-Length'], '7');
  assert.equal(jsonReply('DELETE', 204, undefined, {}).headers, {});
  assert.equal(jsonReply('POST', 202, undefined, {}, true).headers, { 'Content-Length': '0' });
  assert.is(jsonReply('GET', 200, {}, { 'Content-Type': 'application/schema+json' }).headers?.['Content-Type'], 'application/schema+json');
});

test.run();
