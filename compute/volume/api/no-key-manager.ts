import type { VolumeType } from '../volume-types.ts';
import { CinderError } from './cinder-error.ts';

/**
 * A volume of an encrypted type needs a key from a key manager (Cinder's
 * volume_utils.create_encryption_key through castellan). This service has none and cannot
 * encrypt a volume, so such a volume is refused as Cinder refuses it when its key manager
 * fails: 400 "Key manager error" (before that, "Invalid encryption spec" for a type without a
 * cipher, as Cinder checks first). Nothing is reserved or made.
 * @throws 400 for an encrypted type
 */
export function refuseEncryptedType(type: VolumeType): void {
  if (type.encryption === undefined) return;
  if (!type.encryption.cipher) throw new CinderError(400, 'Invalid encryption spec');
  throw new CinderError(400, 'Key manager error');
}
