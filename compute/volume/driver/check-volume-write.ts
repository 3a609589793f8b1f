import { InvalidVolume } from '../errors.ts';

/**
 * What every volume file handle (raw, qcow2, the memory twin) refuses before a write: a handle
 * opened read-only, or bytes outside the volume (a volume never grows by a write; `extend` does).
 * @throws {InvalidVolume}
 */
export function checkVolumeWrite(mode: 'r' | 'rw', position: number, length: number, sizeBytes: number): void {
  if (mode !== 'rw') throw new InvalidVolume('the volume file is open read-only');
  if (position < 0 || position + length > sizeBytes) throw new InvalidVolume(`write of ${length} bytes at ${position} is past the end (${sizeBytes})`);
}
