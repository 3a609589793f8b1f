/**
 * HTTP statuses as errors. Handlers throw these (or return responses); the server adapter
 * turns them into responses. Domain errors become these only at a server's edge.
 */

/** Reason phrase and Swift's default explanation for each status Swift uses. */
export const RESPONSE_REASONS: Readonly<Record<number, readonly [string, string]>> = {
  200: ['OK', ''],
  201: ['Created', ''],
  202: ['Accepted', 'The request is accepted for processing.'],
  204: ['No Content', ''],
  206: ['Partial Content', ''],
  301: ['Moved Permanently', 'The resource has moved permanently.'],
  304: ['Not Modified', ''],
  307: ['Temporary Redirect', 'The resource has moved temporarily.'],
  400: ['Bad Request', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  406: ['Not Acceptable', 'The resource is not available in a format acceptable to your browser.'],
  408: ['Request Timeout', 'The server has waited too long for the request to be sent by the client.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Content-Length header required.'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  414: ['Request URI Too Long', 'The request URI was too long for this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  429: ['Too Many Requests', 'The rate of requests is too high.'],
  497: ['Blacklisted', ''],
  498: ['Rate Limited', ''],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
  501: ['Not Implemented', 'The requested method is not implemented by this server.'],
  502: ['Bad Gateway', 'Bad gateway.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
  504: ['Gateway Timeout', 'A timeout has occurred speaking to a backend server.'],
  507: ['Insufficient Storage', 'There was not enough space to save the resource.'],
};

/** `Not Found` for 404; a generic phrase for unknown codes. */
export function reasonPhrase(status: number): string {
  return RESPONSE_REASONS[status]?.[0] ?? (status >= 500 ? 'Server Error' : status >= 400 ? 'Client Error' : 'Unknown');
}

/** Swift's default error body: `<html><h1>Not Found</h1><p>The resource could not be found.</p></html>`. */
export function defaultErrorBody(status: number): string {
  const [title, explanation] = RESPONSE_REASONS[status] ?? [reasonPhrase(status), ''];
  return `<html><h1>${title}</h1><p>${explanation}</p></html>`;
}

/**
 * An HTTP status with an optional body text and headers. Without a body the response gets
 * Swift's default HTML body for the status. Either goes out as `text/html; charset=UTF-8`, as
 * swob's responses do, unless the headers name another `Content-Type`.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body text, or undefined for Swift's default HTML body. */
  readonly body: string | undefined;

  constructor(status: number, body?: string, headers: Record<string, string> = {}, options?: { cause?: unknown }) {
    super(body ?? reasonPhrase(status), options);
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}
