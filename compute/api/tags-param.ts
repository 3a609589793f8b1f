import { fieldError, pyRepr } from '../validation.ts';

/** Nova's `MAX_TAG_COUNT` and `MAX_TAG_LENGTH`. */
export const MAX_TAG_COUNT = 50;
const MAX_TAG_LENGTH = 60;

/** Why `tag` fails `parameter_types.tag` (jsonschema's message), or undefined when it is one. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string') return `${pyRepr(tag)} is not of type 'string'`;
  if (tag.length < 1) return `${pyRepr(tag)} should be non-empty`;
  if (tag.length > MAX_TAG_LENGTH) return `${pyRepr(tag)} is too long`;
  if (/[,/]/.test(tag)) return `${pyRepr(tag)} does not match '^[^,/]*$'`;
  return undefined;
}

/** One tag (`parameter_types.tag`, a volume attachment's `tag`). @throws {NovaError} 400 */
export function tagParam(field: string, value: unknown): string {
  const problem = tagProblem(value);
  if (problem) throw fieldError(field, value, problem);
  return value as string;
}

/** A list of tags as `server_tags.update_all` and a boot's `tags` (2.52) take it. @throws {NovaError} 400 */
export function tagsParam(value: unknown): string[] {
  if (!Array.isArray(value)) throw fieldError('tags', value, `${pyRepr(value)} is not of type 'array'`);
  if (value.length > MAX_TAG_COUNT) throw fieldError('tags', value, `${pyRepr(value)} is too long`);
  for (const [i, t] of value.entries()) tagParam(`tags/${i}`, t);
  // Nova stores a set: one row per tag.
  return [...new Set(value as string[])];
}
