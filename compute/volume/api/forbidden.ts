import { CinderError } from './cinder-error.ts';

/** Cinder's 403 for a policy rule the caller does not pass (`PolicyNotAuthorized`), naming the rule. */
export function forbidden(rule: string): CinderError {
  return new CinderError(403, `Policy doesn't allow ${rule} to be performed.`);
}
