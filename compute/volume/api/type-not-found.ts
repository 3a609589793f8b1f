import { UUID_LIKE } from '../../validation.ts';
import { CinderError } from './cinder-error.ts';

/** Cinder's 404 for a type asked for by id (VolumeTypeNotFound) or by name (VolumeTypeNotFoundByName). */
export function typeNotFound(ref: string | null | undefined): CinderError {
  return new CinderError(404, ref != null && UUID_LIKE.test(ref) ? `Volume type ${ref} could not be found.` : `Volume type with name ${ref} could not be found.`);
}
