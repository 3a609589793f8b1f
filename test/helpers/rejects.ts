import * as assert from 'uvu/assert';

type Matcher = RegExp | (new (...args: never[]) => unknown) | ((err: unknown) => boolean);

/**
 * Asserts that `promise` rejects, and that the error matches: a RegExp on its message, a class
 * it is an instance of, or a predicate. Returns the error.
 */
export async function rejects(promise: Promise<unknown>, matcher?: Matcher, message?: string): Promise<unknown> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  if (error === undefined) assert.unreachable(message ?? 'expected a rejection');
  if (matcher instanceof RegExp) {
    assert.match(String((error as Error)?.message ?? error), matcher, message);
  } else if (typeof matcher === 'function' && matcher.prototype !== undefined && /^class\s/.test(Function.prototype.toString.call(matcher))) {
    assert.instance(error, matcher as new (...args: never[]) => unknown, message ?? `expected ${(matcher as { name: string }).name}, got ${String(error)}`);
  } else if (typeof matcher === 'function') {
    assert.ok((matcher as (err: unknown) => boolean)(error), message ?? `rejected with an unexpected error: ${String(error)}`);
  }
  return error;
}
