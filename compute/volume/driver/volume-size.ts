import { InvalidVolume } from '../errors.ts';

/** A volume size must be a positive whole number of bytes. @throws {InvalidVolume} */
export function checkSize(sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new InvalidVolume(`size ${sizeBytes} is invalid`);
}
