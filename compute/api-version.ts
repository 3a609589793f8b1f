import { badRequest, NovaError } from './errors.ts';

/**
 * Compute API microversions (nova/api/openstack/api_version_request.py). A request asks for one
 * with `OpenStack-API-Version: compute 2.x` or the legacy `X-OpenStack-Nova-API-Version: 2.x`
 * (`latest` is the maximum; none is the minimum), and every answer says which one it got.
 *
 * The maximum is what python-novaclient 18 knows (`API_MAX_VERSION` 2.92), so the clients this
 * cloud serves never meet a shape they cannot read; openstacksdk negotiates down to it.
 */
export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

export const MIN_VERSION: ApiVersion = { major: 2, minor: 1 };
export const MAX_VERSION: ApiVersion = { major: 2, minor: 92 };

export function versionString(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

export function compareVersions(a: ApiVersion, b: ApiVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** Whether the request's version is at least `minimum` (`"2.47"`): Nova's `is_supported`. */
export function atLeast(v: ApiVersion, minimum: string): boolean {
  return compareVersions(v, parseVersion(minimum)) >= 0;
}

function parseVersion(text: string): ApiVersion {
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text);
  if (!m) throw badRequest(`API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * The version a request asked for, from its headers (lower-case names), as microversion-parse
 * reads them: the `compute` entry of `OpenStack-API-Version` first, else the legacy header.
 * @throws {NovaError} 400 for a malformed version, 406 for one outside MIN..MAX.
 */
export function requestedVersion(headers: Readonly<Record<string, string | undefined>>): ApiVersion {
  let text: string | undefined;
  const modern = headers['openstack-api-version'];
  if (modern !== undefined) {
    for (const part of modern.split(',')) {
      const [service, value] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && value !== undefined) text = value;
    }
  }
  if (text === undefined) text = headers['x-openstack-nova-api-version']?.trim();
  if (text === undefined || text === '') return MIN_VERSION;
  if (text.toLowerCase() === 'latest') return MAX_VERSION;
  const v = parseVersion(text);
  if (compareVersions(v, MIN_VERSION) < 0 || compareVersions(v, MAX_VERSION) > 0) {
    throw new NovaError(406, `Version ${versionString(v)} is not supported by the API. Minimum is ${versionString(MIN_VERSION)} and maximum is ${versionString(MAX_VERSION)}.`);
  }
  return v;
}
