import { pyRepr, pyStr } from '../../validation.ts';
import { CinderError } from './cinder-error.ts';

/**
 * Cinder's 400 for a request body its JSON schema refuses (cinder/api/validation/validators.py):
 * the field (the last element of the error's path) with its value as Python prints it, then
 * jsonschema's own message.
 */
export function schemaError(field: string, value: unknown, message: string): CinderError {
  return new CinderError(400, `Invalid input for field/attribute ${field}. Value: ${pyStr(value)}. ${message}`);
}

/** jsonschema's message for keys an object's schema does not allow. */
export function additionalProperties(keys: readonly string[]): string {
  return `Additional properties are not allowed (${keys.map(pyRepr).join(', ')} ${keys.length === 1 ? 'was' : 'were'} unexpected)`;
}
