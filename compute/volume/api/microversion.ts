import { CinderError } from './cinder-error.ts';

/**
 * Cinder's API microversions (cinder/api/openstack/api_version_request.py and
 * `Request.set_api_version_request` in wsgi.py): `OpenStack-API-Version: volume 3.x` (or
 * `latest`) picks the version, none means 3.0, and every v3 answer says which one it used.
 */
export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

export const MIN_API_VERSION: ApiVersion = { major: 3, minor: 0 };
/** Cinder 2024.1's maximum: openstackclient and the SDK negotiate down to what they know. */
export const MAX_API_VERSION: ApiVersion = { major: 3, minor: 71 };

export const API_VERSION_HEADER = 'OpenStack-API-Version';

export function versionString(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

export function compareVersions(a: ApiVersion, b: ApiVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

/** Whether `v` is at least `min` (a feature's first microversion). */
export function atLeast(v: ApiVersion, min: string): boolean {
  return compareVersions(v, parseVersion(min)) >= 0;
}

/** `MajorNum.MinorNum`, Cinder's pattern. @throws {CinderError} 400 InvalidAPIVersionString */
export function parseVersion(text: string): ApiVersion {
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text);
  if (!m) throw new CinderError(400, `API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * The version a request asks for from its `OpenStack-API-Version` header (lower-case headers).
 * @throws {CinderError} 400 for a header without a volume entry or a malformed version, 406
 * for a version outside 3.0..max (Cinder's InvalidGlobalAPIVersion).
 */
export function requestedVersion(headers: Readonly<Record<string, string | undefined>>): ApiVersion {
  const header = headers[API_VERSION_HEADER.toLowerCase()];
  if (header === undefined) return MIN_API_VERSION;
  let requested: string | undefined;
  for (const entry of header.split(',')) {
    if (entry.includes('volume')) {
      requested = entry.trim().split(/\s+/)[1];
      break;
    }
  }
  if (!requested) throw new CinderError(400, 'API version None is not supported on this method.');
  if (requested === 'latest') return MAX_API_VERSION;
  const version = parseVersion(requested);
  if (compareVersions(version, MIN_API_VERSION) < 0 || compareVersions(version, MAX_API_VERSION) > 0) {
    throw new CinderError(406, `Version ${versionString(version)} is not supported by the API. Minimum is ${versionString(MIN_API_VERSION)} and maximum is ${versionString(MAX_API_VERSION)}.`);
  }
  return version;
}

/** The headers every versioned answer carries (Cinder sets them on faults too). */
export function versionHeaders(v: ApiVersion): Record<string, string> {
  return { [API_VERSION_HEADER]: `volume ${versionString(v)}`, Vary: API_VERSION_HEADER };
}
