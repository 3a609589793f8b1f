import { SwiftError } from '../../common/errors.ts';

/**
 * Glance's answers to bad requests (webob's HTTP exceptions as glance/api/v2 raises them):
 * a status, webob's title for it, and Glance's explanation. The server renders them as webob
 * does (compute/image/server.ts), the only place they become responses.
 */
export class GlanceError extends SwiftError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, explanation: string, headers: Readonly<Record<string, string>> = {}) {
    super(`GLANCE_${status}`, explanation);
    this.status = status;
    this.headers = headers;
  }
}

export const badRequest = (msg: string): GlanceError => new GlanceError(400, msg);
export const forbidden = (msg: string): GlanceError => new GlanceError(403, msg);
export const conflict = (msg: string): GlanceError => new GlanceError(409, msg);
export const tooLarge = (msg: string): GlanceError => new GlanceError(413, msg);

/** `exception.ImageNotFound`: also what a caller who may not see the image is told. */
export function imageNotFound(id: string): GlanceError {
  return new GlanceError(404, `No image found with ID ${id}`);
}

/** `exception.PolicyNotAuthorized`. */
export function notAuthorized(action: string): GlanceError {
  return new GlanceError(403, `You are not authorized to complete ${action} action.`);
}

/** `exception.InvalidImageStatusTransition`. */
export function badTransition(from: string, to: string): GlanceError {
  return new GlanceError(409, `Image status transition from ${from} to ${to} is not allowed`);
}

/** webob's titles for the statuses Glance answers. */
export const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
