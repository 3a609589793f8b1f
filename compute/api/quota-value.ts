import { badRequest } from '../errors.ts';
import { fieldError, integerParam, pyRepr } from '../validation.ts';

/** Nova's quota values (its `_common_quota` schema): integers, or strings of digits, from -1 (unlimited) up. */
export function quotaValue(name: string, value: unknown): number {
  if (typeof value === 'string' && /^-1$/.test(value)) return -1;
  if (typeof value === 'number' && value === -1) return -1;
  if (typeof value === 'number' && value < -1) throw fieldError(name, value, `${pyRepr(value)} is less than the minimum of -1`);
  if (typeof value !== 'number' && typeof value !== 'string') throw badRequest(`Invalid input for field/attribute ${name}. Value: ${pyRepr(value)}. ${pyRepr(value)} is not of type 'integer', 'string'`);
  return integerParam(name, value, 0);
}
