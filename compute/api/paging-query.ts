import { atLeast } from '../api-version.ts';
import { badRequest } from '../errors.ts';
import type { ComputeRequest } from '../request.ts';
import { pyRepr, queryError } from '../validation.ts';
import { parseIsoTime } from './iso-time.ts';

/** A query parameter's one value (Nova's `single_param`): given twice is 400. */
export function singleQueryValue(req: ComputeRequest, name: string): string | undefined {
  const all = req.query.getAll(name);
  if (all.length > 1) throw queryError(name, pyRepr(all), `${pyRepr(all)} is too long`);
  return all[0];
}

/**
 * A paged list's query as Nova's schemas from 2.58/2.59 check it (os-instance-actions,
 * os-migrations): only the `allowed` keys (400 "Additional properties are not allowed"), one
 * value each, `limit` a non-negative integer capped at `maxLimit`, `changes-since` and (from
 * 2.66) `changes-before` ISO 8601 times in ms, the second not before the first.
 */
export function pagingQuery(req: ComputeRequest, allowed: readonly string[], maxLimit: number): { limit: number; marker: string | undefined; since: number | undefined; before: number | undefined } {
  const extra = [...new Set(req.query.keys())].filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw badRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  const l = singleQueryValue(req, 'limit');
  if (l === '') throw queryError('limit', l, "'' should be non-empty");
  if (l !== undefined && !/^[0-9]*$/.test(l)) throw queryError('limit', l, `${pyRepr(l)} does not match '^[0-9]*$'`);
  const marker = singleQueryValue(req, 'marker');
  const time = (name: string): number | undefined => {
    const text = singleQueryValue(req, name);
    if (text === undefined) return undefined;
    const ms = parseIsoTime(text);
    if (ms === undefined) throw queryError(name, text, `${pyRepr(text)} is not a 'date-time'`);
    return ms;
  };
  const since = time('changes-since');
  const before = atLeast(req.version, '2.66') ? time('changes-before') : undefined;
  if (since !== undefined && before !== undefined && before < since) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  return { limit: Math.min(maxLimit, l === undefined ? maxLimit : Number(l)), marker, since, before };
}
