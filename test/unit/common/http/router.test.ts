import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Router } from '../../../../common/http/router.ts';

interface R {
  readonly method: string;
  readonly path: string;
  readonly name: string;
}

const router = new Router<R>([
  { method: 'GET', path: '/v2/images', name: 'list' },
  { method: 'POST', path: '/v2/images', name: 'create' },
  { method: 'GET', path: '/v2/images/{image_id}', name: 'show' },
  { method: 'PUT', path: '/v2/images/{image_id}/tags/{tag}', name: 'tag' },
  { method: 'GET', path: '/v2/things/{id}', name: 'thing' },
  { method: 'HEAD', path: '/v2/things/{id}', name: 'thing-head' },
]);

test('a template matches one segment per parameter, decoded', () => {
  assert.equal(router.match('PUT', '/v2/images/abc/tags/a%20b'), { route: { method: 'PUT', path: '/v2/images/{image_id}/tags/{tag}', name: 'tag' }, params: { image_id: 'abc', tag: 'a b' } });
  assert.is(router.match('GET', '/v2/images/abc/def'), undefined);
  assert.is(router.match('GET', '/v2/images/'), undefined);
});

test('a known path with another method lists the allowed ones (the 405 with Allow)', () => {
  assert.equal(router.match('DELETE', '/v2/images'), { allowed: ['GET', 'POST'] });
});

test('HEAD is answered by the GET route unless the path has its own HEAD route', () => {
  const head = router.match('HEAD', '/v2/images/x');
  assert.ok(head && 'route' in head);
  assert.is(head.route.name, 'show');
  const own = router.match('HEAD', '/v2/things/x');
  assert.ok(own && 'route' in own);
  assert.is(own.route.name, 'thing-head');
});

test('a parameter that is not valid percent-encoding is kept as sent', () => {
  const m = router.match('GET', '/v2/images/%E0%A4%A');
  assert.ok(m && 'route' in m);
  assert.is(m.params['image_id'], '%E0%A4%A');
});

test.run();
