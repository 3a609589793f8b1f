import { badRequest, NovaError, notFound } from '../errors.ts';
import { VolumeCallError } from '../volume-api.ts';

/** What Nova makes of a refusal from Cinder about a volume (`translate_cinder_exception`, `translate_volume_exception`); other errors as they are. */
export function novaErrorOfCinder(err: unknown, volumeId: string): unknown {
  if (!(err instanceof VolumeCallError)) return err;
  if (err.status === 404) return notFound(`Volume ${volumeId} could not be found.`);
  if (err.status === 400) return badRequest(`Invalid input received: ${err.reason}`);
  if (err.status === 403) return new NovaError(403, err.reason);
  return err;
}
