import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cssPath, htmlEscape, humanReadable, type ListingItem, listingPage, listingsDisabledPage } from '../../../../proxy/middleware/staticweb-page.ts';

// The expected pages below are what Swift 2.30.1's staticweb middleware rendered for the same
// listing and settings (run over a fake app with python3-swift), kept byte for byte.

const LISTING: ListingItem[] = [
  { subdir: 'pre/sub dir/' },
  { name: 'pre/a&b.html', bytes: 2048, content_type: 'text/html; charset=UTF-8', last_modified: '2024-01-02T03:04:05.678900' },
  { name: 'pre/\u03a9.txt', bytes: 12, content_type: 'text/plain', last_modified: '2024-01-02T03:04:05.000000' },
];

const SWIFT_PSEUDO_DIR_WITH_CSS =
  "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n" +
  "<html>\n" +
  " <head>\n" +
  "  <title>Listing of /v1/a/c/pre/</title>\n" +
  "  <link rel=\"stylesheet\" type=\"text/css\" href=\"../style.css\" />\n" +
  " </head>\n" +
  " <body>\n" +
  "  <h1 id=\"title\">Listing of /v1/a/c/pre/</h1>\n" +
  "  <table id=\"listing\">\n" +
  "   <tr id=\"heading\">\n" +
  "    <th class=\"colname\">Name</th>\n" +
  "    <th class=\"colsize\">Size</th>\n" +
  "    <th class=\"coldate\">Date</th>\n" +
  "   </tr>\n" +
  "   <tr id=\"parent\" class=\"item\">\n" +
  "    <td class=\"colname\"><a href=\"../\">../</a></td>\n" +
  "    <td class=\"colsize\">&nbsp;</td>\n" +
  "    <td class=\"coldate\">&nbsp;</td>\n" +
  "   </tr>\n" +
  "   <tr class=\"item subdir\">\n" +
  "    <td class=\"colname\"><a href=\"sub%20dir/\">sub dir/</a></td>\n" +
  "    <td class=\"colsize\">&nbsp;</td>\n" +
  "    <td class=\"coldate\">&nbsp;</td>\n" +
  "   </tr>\n" +
  "   <tr class=\"item type-text type-html; charset=utf-8\">\n" +
  "    <td class=\"colname\"><a href=\"a%26b.html\">a&amp;b.html</a></td>\n" +
  "    <td class=\"colsize\">2Ki</td>\n" +
  "    <td class=\"coldate\">2024-01-02 03:04:05</td>\n" +
  "   </tr>\n" +
  "   <tr class=\"item type-text type-plain\">\n" +
  "    <td class=\"colname\"><a href=\"%CE%A9.txt\">Ω.txt</a></td>\n" +
  "    <td class=\"colsize\">12</td>\n" +
  "    <td class=\"coldate\">2024-01-02 03:04:05</td>\n" +
  "   </tr>\n" +
  "  </table>\n" +
  " </body>\n" +
  "</html>\n";

const SWIFT_CONTAINER_PLAIN =
  "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n" +
  "<html>\n" +
  " <head>\n" +
  "  <title>Listing of /v1/a/c/</title>\n" +
  "  <style type=\"text/css\">\n" +
  "   h1 {font-size: 1em; font-weight: bold;}\n" +
  "   th {text-align: left; padding: 0px 1em 0px 1em;}\n" +
  "   td {padding: 0px 1em 0px 1em;}\n" +
  "   a {text-decoration: none;}\n" +
  "  </style>\n" +
  " </head>\n" +
  " <body>\n" +
  "  <h1 id=\"title\">Listing of /v1/a/c/</h1>\n" +
  "  <table id=\"listing\">\n" +
  "   <tr id=\"heading\">\n" +
  "    <th class=\"colname\">Name</th>\n" +
  "    <th class=\"colsize\">Size</th>\n" +
  "    <th class=\"coldate\">Date</th>\n" +
  "   </tr>\n" +
  "   <tr class=\"item subdir\">\n" +
  "    <td class=\"colname\"><a href=\"pre/sub%20dir/\">pre/sub dir/</a></td>\n" +
  "    <td class=\"colsize\">&nbsp;</td>\n" +
  "    <td class=\"coldate\">&nbsp;</td>\n" +
  "   </tr>\n" +
  "   <tr class=\"item type-text type-html; charset=utf-8\">\n" +
  "    <td class=\"colname\"><a href=\"pre/a%26b.html\">pre/a&amp;b.html</a></td>\n" +
  "    <td class=\"colsize\">2Ki</td>\n" +
  "    <td class=\"coldate\">2024-01-02 03:04:05</td>\n" +
  "   </tr>\n" +
  "   <tr class=\"item type-text type-plain\">\n" +
  "    <td class=\"colname\"><a href=\"pre/%CE%A9.txt\">pre/Ω.txt</a></td>\n" +
  "    <td class=\"colsize\">12</td>\n" +
  "    <td class=\"coldate\">2024-01-02 03:04:05</td>\n" +
  "   </tr>\n" +
  "  </table>\n" +
  " </body>\n" +
  "</html>\n";

const SWIFT_LISTINGS_OFF_WITH_INDEX =
  "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n" +
  "<html>\n" +
  "<head>\n" +
  "<title>Listing of /v1/a/c/pre/</title>\n" +
  "  <link rel=\"stylesheet\" type=\"text/css\" href=\"/s.css\" />\n" +
  "</head>\n" +
  "<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has disabled web listing.   <p>If you are the owner of this web site, you can enable   web listing by setting X-Container-Meta-Web-Listings.</p><h1>Index File Not Found</h1> <p>The owner of this web site has set  <b>X-Container-Meta-Web-Index: idx.html</b>.  However, this file is not found.</p> </body>\n" +
  "</html>\n";

test('a pseudo-directory listing with a style sheet is Swift\'s page byte for byte', () => {
  assert.is(listingPage('/v1/a/c/pre/', { css: 'style.css', index: '' }, 'pre/', LISTING), SWIFT_PSEUDO_DIR_WITH_CSS);
});

test('a container listing with the built-in style is Swift\'s page byte for byte', () => {
  assert.is(listingPage('/v1/a/c/', { css: '', index: '' }, '', LISTING), SWIFT_CONTAINER_PLAIN);
});

test('the listings-off page names the missing index and links a style sheet from the root as given', () => {
  assert.is(listingsDisabledPage('/v1/a/c/pre/', { css: '/s.css', index: 'idx.html' }, 'pre/'), SWIFT_LISTINGS_OFF_WITH_INDEX);
});

test('sizes read as Swift\'s human_readable: each step rounded half to even', () => {
  const values = [0, 1023, 1024, 1536, 2560, 1048575, 1048576, 5 * 1024 ** 3 + 123, 3 * 1024 ** 8];
  assert.equal(values.map(humanReadable), ["0", "1023", "1Ki", "2Ki", "2Ki", "1Mi", "1Mi", "5Gi", "3Yi"]);
});

test('html escaping covers quotes; style sheet paths climb one level per slash of the prefix', () => {
  assert.is(htmlEscape(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;');
  assert.is(cssPath('s s.css', ''), 's%20s.css');
  assert.is(cssPath('s.css', 'a/b/'), '../../s.css');
  assert.is(cssPath('https://cdn.example.com/s s.css', 'a/'), 'https://cdn.example.com/s%20s.css');
});

test.run();
