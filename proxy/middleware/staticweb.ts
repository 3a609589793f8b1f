import { type ConfigOf, isTrueValue, type Schema, str } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { decodePath } from '../../common/http/backend-path.ts';
import { errorResponse, type ServerResponse } from '../../common/http/server.ts';
import type { ProxyContext } from '../context.ts';
import type { ContainerInfo } from '../info-cache.ts';
import { type Middleware, type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import type { Capabilities } from './info.ts';
import { type ListingItem, listingPage, listingsDisabledPage, type PageSettings } from './staticweb-page.ts';
import { discardBody, headerOf, isSuccess, readWhole, respond } from './subresponse.ts';
import { type SwiftPath, swiftPathOf } from '../swift-path.ts';
import { pyQuote, utf8OrUndefined } from './url-quote.ts';

/** The `[staticweb]` section (Swift's `[filter:staticweb]`). */
export const staticwebSchema = {
  url_base: str('', { doc: 'scheme and/or host for redirects (https:, //www.example.com:8080, https://www.example.com); empty: as the request came' }),
} as const satisfies Schema;

/** A container's `X-Container-Meta-Web-*` settings, trimmed; empty when unset. */
interface WebSettings extends PageSettings {
  readonly error: string;
  readonly listings: string;
  readonly label: string;
  readonly dirType: string;
}

/** Listings are a page; a pseudo-directory's first page is what a site shows. */
const LISTING_LIMIT = 16 * 1024 * 1024;

const isRedirection = (status: number): boolean => status >= 300 && status < 400;

function settingsOf(info: ContainerInfo): WebSettings {
  if (!isSuccess(info.status)) return { index: '', error: '', listings: '', label: '', css: '', dirType: '' };
  // Metadata values are header bytes (one char per byte); the settings are their UTF-8 text.
  const get = (name: string): string => {
    const raw = info.meta[name] ?? '';
    return (utf8OrUndefined(Buffer.from(raw, 'latin1')) ?? raw).trim();
  };
  return { index: get('web-index'), error: get('web-error'), listings: get('web-listings'), label: get('web-listings-label'), css: get('web-listings-css'), dirType: get('web-directory-type') };
}

/** One request's view of the site: where it is, what the container says, how to ask for more. */
interface Site {
  readonly req: ProxyRequest;
  readonly next: ProxyHandler;
  readonly path: SwiftPath & { readonly container: string };
  /** The decoded request path (Swift's `PATH_INFO`), for labels and redirects. */
  readonly decoded: string;
  readonly info: ContainerInfo;
  readonly settings: WebSettings;
}

/**
 * Swift's `staticweb` middleware, just after auth: a container serves as a web site to
 * anonymous GETs and HEADs (and to authenticated ones that send `X-Web-Mode: true`), driven
 * by its metadata:
 * - `X-Container-Meta-Web-Index: index.html`: `/c/` and `/c/dir/` serve `index.html` of that
 *   level; `/c` and `/c/dir` (no slash) redirect (301) to the slashed path;
 * - `X-Container-Meta-Web-Listings: true`: levels without an index get an HTML listing
 *   (`-Web-Listings-CSS` links a style sheet, `-Web-Listings-Label` replaces the path in the
 *   title); without it such a level is a 404 page saying listings are off;
 * - `X-Container-Meta-Web-Error: error.html`: a 404 or 401 serves `404error.html` or
 *   `401error.html` from the container, with the original status;
 * - `X-Container-Meta-Web-Directory-Type` (default `application/directory`): zero- or one-byte
 *   objects of that type are directory markers, treated as missing.
 * Anything else passes through untouched: one header check for a token-bearing request, a
 * cached container-info lookup for anonymous object reads.
 */
export function staticweb(ctx: ProxyContext, capabilities: Capabilities, config: ConfigOf<typeof staticwebSchema>): Middleware {
  capabilities['staticweb'] = {};
  const urlBase = parseUrlBase(config.url_base);
  return (next) => async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next(req);
    if (req.env.authorize === undefined || req.env.source !== undefined) return next(req);
    // A token means an API client, unless it asks for the web view; a token that did not
    // verify gets the controllers' 401, as Swift's tempauth answers it before staticweb.
    const token = req.headers['x-auth-token'] ?? req.headers['x-storage-token'];
    if ((req.env.identity !== undefined || token !== undefined) && !isTrueValue(req.headers['x-web-mode'] ?? 'f')) return next(req);
    if (token !== undefined && req.env.identity === undefined) return next(req);
    const path = swiftPathOf(req.path);
    if (path?.container === undefined) return next(req);
    const info = await ctx.info.container(path.account, path.container, req.env.transId);
    const site: Site = { req, next, path: path as Site['path'], decoded: decodePath(req.path), info, settings: settingsOf(info) };
    const redirect = (): ServerResponse => redirectWithSlash(site, urlBase);
    return path.object === undefined ? handleContainer(site, redirect) : handleObject(site, redirect);
  };
}

async function handleContainer(site: Site, redirect: () => ServerResponse): Promise<ServerResponse> {
  const { req, path, info } = site;
  const decision = req.env.authorized ? undefined : await req.env.authorize?.({ method: req.method, account: path.account, container: path.container, ...(info.read !== undefined ? { acl: info.read } : {}), ...(req.headers['referer'] !== undefined ? { referer: req.headers['referer'] } : {}) });
  if (decision?.denied) return errorPage(site, errorResponse(decision.denied, req.env.logger, req));
  const s = site.settings;
  if (!s.listings && !s.index) {
    if (isTrueValue(req.headers['x-web-mode'] ?? 'f')) return errorResponse(new HttpError(404), req.env.logger, req);
    return site.next(req);
  }
  if (!site.decoded.endsWith('/')) return redirect();
  if (!s.index) return listing(site, '');
  const response = await respond(site.next, { ...req, path: req.path + pyQuote(s.index) });
  if (response.status === 404) {
    await discardBody(response.body);
    return listing(site, '');
  }
  if (!isSuccess(response.status) && !isRedirection(response.status)) return errorPage(site, response);
  return response;
}

async function handleObject(site: Site, redirect: () => ServerResponse): Promise<ServerResponse> {
  const { req, path } = site;
  const response = await respond(site.next, { ...req });
  let status = response.status;
  const s = site.settings;
  if (isSuccess(status) || isRedirection(status)) {
    const length = Number(headerOf(response, 'content-length') ?? 0) || 0;
    if (headerOf(response, 'content-type') !== (s.dirType || 'application/directory') || length > 1) return response;
    status = 404;
  }
  // Only a 404 may become an error page (Swift keeps other errors as they are).
  if (status !== 404) return response;
  if (!s.listings && !s.index) return response;
  await discardBody(response.body);
  if (s.index) {
    const indexPath = `${req.path.endsWith('/') ? req.path : `${req.path}/`}${pyQuote(s.index)}`;
    const index = await respond(site.next, { ...req, path: indexPath });
    if (isSuccess(index.status) || isRedirection(index.status)) {
      if (!site.decoded.endsWith('/')) {
        await discardBody(index.body);
        return redirect();
      }
      return index;
    }
    if (index.status !== 404) return index;
    await discardBody(index.body);
  }
  if (!site.decoded.endsWith('/')) {
    // A pseudo-directory without the slash: redirect when anything is under it.
    const probe = await listingRequest(site, { limit: '1', delimiter: '/', prefix: `${path.object}/` });
    if (!isSuccess(probe.status)) {
      await discardBody(probe.body);
      return errorPage(site, errorResponse(new HttpError(404), req.env.logger, req));
    }
    const entries = await readListing(probe);
    if (entries.length === 0) return errorPage(site, errorResponse(new HttpError(404), req.env.logger, req));
    return redirect();
  }
  return listing(site, path.object as string);
}

/** An HTML listing of the container under `prefix`, or the page saying listings are off. */
async function listing(site: Site, prefix: string): Promise<ServerResponse> {
  const { req } = site;
  const s = site.settings;
  let label = site.decoded;
  if (s.label) label = `${s.label}/${site.decoded.split('/').slice(4).join('/')}`;
  if (!isTrueValue(s.listings)) {
    return errorPage(site, { status: 404, headers: { 'Content-Type': 'text/html; charset=UTF-8' }, body: listingsDisabledPage(label, s, prefix) });
  }
  const response = await listingRequest(site, { delimiter: '/', ...(prefix ? { prefix } : {}) });
  if (!isSuccess(response.status)) return errorPage(site, response);
  const entries = await readListing(response);
  if (prefix && entries.length === 0) return errorPage(site, errorResponse(new HttpError(404), req.env.logger, req));
  return { status: 200, headers: { 'Content-Type': 'text/html; charset=UTF-8' }, body: listingPage(label, s, prefix, entries) };
}

/** A JSON listing of the container, as the site's reader (its identity and authorizer). */
function listingRequest(site: Site, query: Record<string, string>): Promise<ServerResponse> {
  const { req, path } = site;
  return respond(site.next, subrequest(req, { method: 'GET', path: containerPath(path), query: new URLSearchParams({ ...query, format: 'json' }), headers: { 'user-agent': `${req.headers['user-agent']} StaticWeb` }, source: 'SW' }));
}

async function readListing(response: ServerResponse): Promise<ListingItem[]> {
  const body = await readWhole(response.body, LISTING_LIMIT);
  return body.length === 0 ? [] : (JSON.parse(body.toString('utf8')) as ListingItem[]);
}

function containerPath(path: SwiftPath & { container: string }): string {
  return `/${path.version}/${pyQuote(path.account)}/${pyQuote(path.container)}`;
}

/**
 * Swift's `_error_response`: with `X-Container-Meta-Web-Error` set, the error's body and
 * headers become those of `<status><web-error>` of the container (the status stays); when
 * that page is missing, the error as it was.
 */
async function errorPage(site: Site, response: ServerResponse): Promise<ServerResponse> {
  const { req, path } = site;
  if (!site.settings.error) return response;
  const page = await respond(site.next, subrequest(req, { method: 'GET', path: `${containerPath(path)}/${response.status}${pyQuote(site.settings.error)}`, headers: { 'user-agent': `${req.headers['user-agent']} StaticWeb` }, source: 'SW' }));
  if (!isSuccess(page.status)) {
    await discardBody(page.body);
    return response;
  }
  await discardBody(response.body);
  return { ...page, status: response.status };
}

/** A 301 to the request's path with a slash, absolute as swob makes it (`url_base` may set the scheme and host). */
function redirectWithSlash(site: Site, urlBase: { scheme?: string; host?: string }): ServerResponse {
  const scheme = urlBase.scheme ?? 'http';
  const host = urlBase.host ?? site.req.headers['host'] ?? 'localhost';
  const location = `${scheme}://${host}${pyQuote(`${site.decoded}/`)}`;
  return errorResponse(new HttpError(301, undefined, { Location: location }), site.req.env.logger, site.req);
}

/** `url_base` as Python's `urlparse` reads its scheme and netloc. */
export function parseUrlBase(value: string): { scheme?: string; host?: string } {
  if (value === '') return {};
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?/.exec(value);
  return { ...(m?.[1] ? { scheme: m[1].toLowerCase() } : {}), ...(m?.[2] ? { host: m[2] } : {}) };
}

