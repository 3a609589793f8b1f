import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster({ middleware: { staticweb: { url_base: '' } } });
  const put = async (path: string, body = '', headers: Record<string, string> = {}): Promise<void> => {
    assert.is((await c.request('PUT', `/v1/AUTH_test/${path}`, headers, body)).status, 201, path);
  };
  await put('site', '', { 'X-Container-Read': '.r:*,.rlistings', 'X-Container-Meta-Web-Index': 'index.html', 'X-Container-Meta-Web-Error': 'error.html' });
  await put('site/index.html', '<h1>home</h1>', { 'Content-Type': 'text/html' });
  await put('site/404error.html', 'no such page', { 'Content-Type': 'text/html' });
  await put('site/dir', '', { 'Content-Type': 'application/directory' });
  await put('site/dir/page.html', 'a page', { 'Content-Type': 'text/html' });
  await put('site/dir/sub/deep.txt', 'deep');
  await put('site/docs/index.html', 'docs home', { 'Content-Type': 'text/html' });
  await put('private', '', { 'X-Container-Meta-Web-Index': 'index.html' });
  await put('private/index.html', 'secret');
});
test.after(async () => {
  await c.close();
});

/** A browser's request: no token. */
function anon(method: string, path: string, headers: Record<string, string> = {}) {
  return c.request(method, path, { 'X-Auth-Token': '', ...headers });
}

test('/info announces staticweb', async () => {
  const info = JSON.parse((await anon('GET', '/info')).body.toString());
  assert.equal(info.staticweb, {});
});

test('the container root serves its index; without the slash it redirects to it', async () => {
  const res = await anon('GET', '/v1/AUTH_test/site/');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), '<h1>home</h1>');
  const head = await anon('HEAD', '/v1/AUTH_test/site/');
  assert.is(head.status, 200);
  assert.is(head.headers['content-length'], '13');
  const redirect = await anon('GET', '/v1/AUTH_test/site', { Host: 'www.example.com:8080' });
  assert.is(redirect.status, 301);
  assert.is(redirect.headers['location'], 'http://www.example.com:8080/v1/AUTH_test/site/');
});

test('a pseudo-directory with an index serves it; without the slash it redirects', async () => {
  const res = await anon('GET', '/v1/AUTH_test/site/docs/');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'docs home');
  const redirect = await anon('GET', '/v1/AUTH_test/site/docs', { Host: 'h' });
  assert.is(redirect.status, 301);
  assert.is(redirect.headers['location'], 'http://h/v1/AUTH_test/site/docs/');
});

test('a missing page is a 404 with the container\'s 404 page; other objects are served as they are', async () => {
  const missing = await anon('GET', '/v1/AUTH_test/site/nope.html');
  assert.is(missing.status, 404);
  assert.is(missing.body.toString(), 'no such page');
  const page = await anon('GET', '/v1/AUTH_test/site/dir/page.html');
  assert.is(page.status, 200);
  assert.is(page.body.toString(), 'a page');
});

test('with listings off, a level without an index is the "Web Listing Disabled" page (or the error page)', async () => {
  assert.is((await c.request('POST', '/v1/AUTH_test/site', { 'X-Remove-Container-Meta-Web-Error': 'x' })).status, 204);
  const res = await anon('GET', '/v1/AUTH_test/site/dir/');
  assert.is(res.status, 404);
  assert.match(res.body.toString(), '<h1>Web Listing Disabled</h1>');
  assert.match(res.body.toString(), '<b>X-Container-Meta-Web-Index: index.html</b>');
  assert.is((await c.request('POST', '/v1/AUTH_test/site', { 'X-Container-Meta-Web-Error': 'error.html' })).status, 204);
  const custom = await anon('GET', '/v1/AUTH_test/site/dir/');
  assert.is(custom.status, 404);
  assert.is(custom.body.toString(), 'no such page');
});

test('with listings on, a level without an index is an HTML listing: sub-directories, then objects', async () => {
  assert.is((await c.request('POST', '/v1/AUTH_test/site', { 'X-Container-Meta-Web-Listings': 'true', 'X-Container-Meta-Web-Listings-CSS': 'style.css' })).status, 204);
  const res = await anon('GET', '/v1/AUTH_test/site/dir/');
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'text/html; charset=UTF-8');
  const html = res.body.toString();
  assert.match(html, '<title>Listing of /v1/AUTH_test/site/dir/</title>');
  assert.match(html, '<link rel="stylesheet" type="text/css" href="../style.css" />');
  assert.match(html, '<td class="colname"><a href="../">../</a></td>');
  assert.match(html, '<a href="sub/">sub/</a>');
  assert.match(html, '<tr class="item type-text type-html">\n    <td class="colname"><a href="page.html">page.html</a></td>\n    <td class="colsize">6</td>');
  assert.ok(html.indexOf('sub/') < html.indexOf('page.html'));
  // A directory marker is not a page: the slashless name redirects to its listing.
  const marker = await anon('GET', '/v1/AUTH_test/site/dir', { Host: 'h' });
  assert.is(marker.status, 301);
  assert.is(marker.headers['location'], 'http://h/v1/AUTH_test/site/dir/');
  // A label replaces the path in the title.
  assert.is((await c.request('POST', '/v1/AUTH_test/site', { 'X-Container-Meta-Web-Listings-Label': 'example.com' })).status, 204);
  assert.match((await anon('GET', '/v1/AUTH_test/site/dir/')).body.toString(), '<title>Listing of example.com/dir/</title>');
  // A prefix with nothing under it is a 404.
  assert.is((await anon('GET', '/v1/AUTH_test/site/empty/')).status, 404);
});

test('a token-bearing client sees the API unless it asks for the web view with X-Web-Mode', async () => {
  const api = await c.request('GET', '/v1/AUTH_test/site/');
  assert.is(api.status, 200);
  assert.match(api.body.toString(), 'index.html\n');
  const web = await c.request('GET', '/v1/AUTH_test/site/', { 'X-Web-Mode': 'true' });
  assert.is(web.body.toString(), '<h1>home</h1>');
  // A token that does not verify is refused, not treated as anonymous.
  assert.is((await c.request('GET', '/v1/AUTH_test/site/', { 'X-Auth-Token': 'AUTH_tkbogus' })).status, 401);
});

test('a container the reader may not list is a 401, its index unread', async () => {
  const res = await anon('GET', '/v1/AUTH_test/private/');
  assert.is(res.status, 401);
  assert.not.match(res.body.toString(), 'secret');
  assert.is((await anon('GET', '/v1/AUTH_test/private/index.html')).status, 401);
});

test('a custom directory type makes those markers directories instead', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/site/folder', { 'Content-Type': 'text/directory' }, '')).status, 201);
  assert.is((await anon('GET', '/v1/AUTH_test/site/folder')).status, 200);
  assert.is((await c.request('POST', '/v1/AUTH_test/site', { 'X-Container-Meta-Web-Directory-Type': 'text/directory' })).status, 204);
  const res = await anon('GET', '/v1/AUTH_test/site/folder');
  assert.is(res.status, 404);
  assert.is(res.body.toString(), 'no such page');
});

test('url_base sets the scheme and host of redirects', async () => {
  const other = await startCluster({ nodes: 3, middleware: { staticweb: { url_base: 'https://www.example.com' } } });
  try {
    assert.is((await other.request('PUT', '/v1/AUTH_test/w', { 'X-Container-Read': '.r:*,.rlistings', 'X-Container-Meta-Web-Listings': 'true' })).status, 201);
    const res = await other.request('GET', '/v1/AUTH_test/w', { 'X-Auth-Token': '', Host: 'internal:8080' });
    assert.is(res.status, 301);
    assert.is(res.headers['location'], 'https://www.example.com/v1/AUTH_test/w/');
  } finally {
    await other.close();
  }
});

test.run();
