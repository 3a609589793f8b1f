import { str, type ConfigOf, type Schema } from '../../common/config.ts';
import type { Middleware } from '../request.ts';
import type { Capabilities } from './info.ts';

/** The `[crossdomain]` section (Swift's `[filter:crossdomain]`), with Swift 2.30's default. */
export const crossdomainSchema = {
  cross_domain_policy: str('<allow-access-from domain="*" secure="false" />', { doc: 'the policy elements inside <cross-domain-policy>; continuation lines are indented' }),
} as const satisfies Schema;

/**
 * Swift's `crossdomain` middleware: `GET /crossdomain.xml` answers the cross-domain policy
 * document that Flash, Java and Silverlight clients read before they talk to the API from a
 * page on another site. Other requests (a HEAD included, as in Swift) pass.
 */
export function crossdomain(config: ConfigOf<typeof crossdomainSchema>, capabilities: Capabilities): Middleware {
  capabilities['crossdomain'] = {};
  const body =
    '<?xml version="1.0"?>\n' +
    '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n' +
    `<cross-domain-policy>\n${config.cross_domain_policy}\n</cross-domain-policy>`;
  return (next) => async (req) => {
    if (req.path !== '/crossdomain.xml' || req.method !== 'GET') return next(req);
    return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
  };
}
