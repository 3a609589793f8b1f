import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BindingCalls, heldCallCount } from '../../../../../compute/agent/hypervisor/binding-calls.ts';
import { HypervisorUnavailable } from '../../../../../compute/agent/hypervisor/errors.ts';
import { rejects } from '../../../../helpers/rejects.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A call that ends when `end` is called, as a binding's worker does. */
function pending(): { promise: Promise<string>; end(): void } {
  let end = (): void => {};
  const promise = new Promise<string>((resolve) => {
    end = () => resolve('done');
  });
  return { promise, end };
}

test('a domain given to a call is kept from the garbage collector until the call settles (invalid domain pointer in virDomainGetName)', async () => {
  const calls = new BindingCalls('test:///default', {});
  const call = pending();
  let domain: WeakRef<object> | undefined;
  // The caller keeps nothing: only the call holds the domain, as after an optimized `await`.
  const running = (() => {
    const d = { name: 'instance-00000001' };
    domain = new WeakRef(d);
    return calls.run([d], () => call.promise);
  })();
  await sleep(0);
  gc();
  assert.ok(domain?.deref() !== undefined, 'the domain was collected while its call ran');
  assert.is(heldCallCount(), 1);
  call.end();
  assert.is(await running, 'done');
  assert.is(heldCallCount(), 0);
  await sleep(0);
  gc();
  assert.is(domain?.deref(), undefined, 'the domain is let go once its call settled');
});

test('a failed call lets its objects go too', async () => {
  const calls = new BindingCalls('test:///default', {});
  await rejects(
    calls.run([{}], () => Promise.reject(new Error('Domain not found'))),
    /Domain not found/,
  );
  assert.is(heldCallCount(), 0);
});

test('close waits for the calls running, closes once, and refuses calls after it', async () => {
  const calls = new BindingCalls('test:///default', {});
  const call = pending();
  const running = calls.run([], () => call.promise);
  let closes = 0;
  const closing = calls.close(async () => void closes++);
  const again = calls.close(async () => void closes++);
  await rejects(
    calls.run([], () => Promise.resolve('late')),
    HypervisorUnavailable,
  );
  await sleep(5);
  assert.is(closes, 0, 'closed while a call ran');
  call.end();
  assert.is(await running, 'done');
  await Promise.all([closing, again]);
  assert.is(closes, 1);
});

test.run();
