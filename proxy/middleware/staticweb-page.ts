import { pyQuote } from './url-quote.ts';

/**
 * The HTML pages of staticweb, byte for byte as Swift 2.30 renders them (`staticweb.py`):
 * the listing of a container or pseudo-directory, and the page saying listings are off.
 */

/** One entry of a JSON container listing: an object or a pseudo-directory. */
export type ListingItem =
  | { readonly subdir: string }
  | { readonly name: string; readonly bytes: number; readonly content_type: string; readonly last_modified: string };

/** What the container's web settings say about a page. */
export interface PageSettings {
  /** `X-Container-Meta-Web-Listings-CSS`, or empty for the built-in style. */
  readonly css: string;
  /** `X-Container-Meta-Web-Index`, named on the listings-off page. */
  readonly index: string;
}

/** Python's `html.escape(s, quote=True)`. */
export function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

/** Python 3's `round()` of a float to an integer: halves go to the even neighbour. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Swift's `human_readable`: `1023`, `1Ki`, `2Mi` (each step rounded, as Swift does). */
export function humanReadable(bytes: number): string {
  const suffixes = 'KMGTPEZY';
  let value = bytes;
  let index = -1;
  while (value >= 1024 && index + 1 < suffixes.length) {
    index += 1;
    value = roundHalfEven(value / 1024);
  }
  if (index === -1) return String(Math.trunc(value));
  return `${roundHalfEven(value)}${suffixes[index]}i`;
}

/**
 * The style sheet link of a page: a path from the root or a URL as given (quoted), anything
 * else relative to the container, one `../` per `/` in the listed prefix.
 */
export function cssPath(css: string, prefix: string): string {
  if (css.startsWith('/') || css.startsWith('http://') || css.startsWith('https://')) return pyQuote(css, ':/');
  return '../'.repeat(prefix.split('/').length - 1) + pyQuote(css);
}

const DOCTYPE = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n';

/** The 404 page of a container whose listings are off (`Web Listing Disabled`). */
export function listingsDisabledPage(label: string, settings: PageSettings, prefix: string): string {
  let body = `${DOCTYPE}<html>\n<head>\n<title>Listing of ${htmlEscape(label)}</title>\n`;
  if (settings.css) body += `  <link rel="stylesheet" type="text/css" href="${cssPath(settings.css, prefix)}" />\n`;
  else body += '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n   p {font-size: 2}\n  </style>\n';
  body +=
    '</head>\n<body>' +
    '  <h1>Web Listing Disabled</h1>' +
    '   <p>The owner of this web site has disabled web listing.' +
    '   <p>If you are the owner of this web site, you can enable' +
    '   web listing by setting X-Container-Meta-Web-Listings.</p>';
  if (settings.index) {
    body +=
      '<h1>Index File Not Found</h1>' +
      ' <p>The owner of this web site has set ' +
      ` <b>X-Container-Meta-Web-Index: ${settings.index}</b>. ` +
      ' However, this file is not found.</p>';
  }
  return `${body} </body>\n</html>\n`;
}

/**
 * The listing of a container (`prefix` empty) or of a pseudo-directory (`prefix` ends with
 * `/`): a parent link below the root, then sub-directories, then objects with size and date.
 */
export function listingPage(label: string, settings: PageSettings, prefix: string, listing: readonly ListingItem[]): string {
  let body = `${DOCTYPE}<html>\n <head>\n  <title>Listing of ${htmlEscape(label)}</title>\n`;
  if (settings.css) {
    body += `  <link rel="stylesheet" type="text/css" href="${cssPath(settings.css, prefix)}" />\n`;
  } else {
    body +=
      '  <style type="text/css">\n' +
      '   h1 {font-size: 1em; font-weight: bold;}\n' +
      '   th {text-align: left; padding: 0px 1em 0px 1em;}\n' +
      '   td {padding: 0px 1em 0px 1em;}\n' +
      '   a {text-decoration: none;}\n' +
      '  </style>\n';
  }
  body +=
    ' </head>\n' +
    ' <body>\n' +
    `  <h1 id="title">Listing of ${htmlEscape(label)}</h1>\n` +
    '  <table id="listing">\n' +
    '   <tr id="heading">\n' +
    '    <th class="colname">Name</th>\n' +
    '    <th class="colsize">Size</th>\n' +
    '    <th class="coldate">Date</th>\n' +
    '   </tr>\n';
  if (prefix) {
    body +=
      '   <tr id="parent" class="item">\n' +
      '    <td class="colname"><a href="../">../</a></td>\n' +
      '    <td class="colsize">&nbsp;</td>\n' +
      '    <td class="coldate">&nbsp;</td>\n' +
      '   </tr>\n';
  }
  for (const item of listing) {
    if (!('subdir' in item)) continue;
    const subdir = item.subdir.slice(prefix.length);
    body +=
      '   <tr class="item subdir">\n' +
      `    <td class="colname"><a href="${pyQuote(subdir)}">${htmlEscape(subdir)}</a></td>\n` +
      '    <td class="colsize">&nbsp;</td>\n' +
      '    <td class="coldate">&nbsp;</td>\n' +
      '   </tr>\n';
  }
  for (const item of listing) {
    if (!('name' in item)) continue;
    const name = item.name.slice(prefix.length);
    const types = item.content_type.split('/').map((t) => `type-${htmlEscape(t.toLowerCase())}`).join(' ');
    const date = (htmlEscape(item.last_modified).split('.')[0] as string).replace(/T/g, ' ');
    body +=
      `   <tr class="item ${types}">\n` +
      `    <td class="colname"><a href="${pyQuote(name)}">${htmlEscape(name)}</a></td>\n` +
      `    <td class="colsize">${humanReadable(item.bytes)}</td>\n` +
      `    <td class="coldate">${date}</td>\n` +
      '   </tr>\n';
  }
  return `${body}  </table>\n </body>\n</html>\n`;
}
