import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Dispatcher } from 'undici';
import { ResponseHandler } from '../../../../common/http/response-handler.ts';

/**
 * A controller as undici's parser drives one: `pause` stops it; `resume` parses at once (in the
 * same call) whatever `onResume` hands over, as `Parser.resume` executes the socket's buffer.
 */
function scriptedController(onResume: () => void = () => undefined): Dispatcher.DispatchController & { resumes: number } {
  let paused = false;
  return {
    resumes: 0,
    get paused() {
      return paused;
    },
    get aborted() {
      return false;
    },
    get reason() {
      return null;
    },
    pause() {
      paused = true;
    },
    resume() {
      if (!paused) return;
      paused = false;
      this.resumes++;
      onResume();
    },
    abort() {},
  };
}

test('an empty chunk from the parser (a resume with nothing new on the socket) is never handed to the reader', async () => {
  const handler = new ResponseHandler(undefined, (err) => err as Error);
  const controller = scriptedController();
  handler.onRequestStart(controller);
  handler.onResponseStart(controller, 200, { 'content-length': '6' });
  const res = await handler.response;
  const it = res.body[Symbol.asyncIterator]();
  handler.onResponseData(controller, Buffer.from('abc'));
  handler.onResponseData(controller, Buffer.alloc(0));
  handler.onResponseData(controller, Buffer.from('def'));
  handler.onResponseEnd();
  const got: string[] = [];
  for (let step = await it.next(); !step.done; step = await it.next()) got.push(step.value.toString());
  assert.equal(got, ['abc', 'def']);
});

test('the connection is paused while 1 MiB waits unread and resumed as the reader takes it', async () => {
  const handler = new ResponseHandler(undefined, (err) => err as Error);
  const controller = scriptedController();
  handler.onRequestStart(controller);
  handler.onResponseStart(controller, 200, {});
  const res = await handler.response;
  for (let i = 0; i < 15; i++) handler.onResponseData(controller, Buffer.alloc(64 * 1024, i));
  assert.not.ok(controller.paused, '960 KiB unread: still reading');
  handler.onResponseData(controller, Buffer.alloc(64 * 1024, 15));
  assert.ok(controller.paused, '1 MiB unread: paused');
  const it = res.body[Symbol.asyncIterator]();
  const step = await it.next();
  assert.is(step.value?.[0], 0);
  assert.not.ok(controller.paused, 'resumed once below the mark');
  handler.onResponseEnd();
  let n = 1;
  for (let s = await it.next(); !s.done; s = await it.next()) assert.is(s.value[0], n++);
  assert.is(n, 16);
});

test.run();
