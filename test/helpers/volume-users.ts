import type { TestVolumeApi } from './volume-api.ts';

/**
 * The tokens the volume API tests act with: `alice` and `bob`, members of their own projects
 * (`p-alice`, `p-bob`, each user's id its name), and `admin`, root with the admin role in
 * `p-admin`, so what it does in another project's path it does as an admin, not as a member.
 */
export interface VolumeUsers {
  readonly alice: string;
  readonly bob: string;
  readonly admin: string;
}

/** The users of `api` (or of another API over the same keys, e.g. the same cluster's second node). */
export function volumeUsers(api: Pick<TestVolumeApi, 'token'>): VolumeUsers {
  return { alice: api.token('alice', 'p-alice'), bob: api.token('bob', 'p-bob'), admin: api.token('root', 'p-admin', true) };
}
