/** `Tue, 14 Nov 2023 22:13:21 GMT` for seconds since the epoch (IMF-fixdate). */
export function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}

/**
 * Seconds since the epoch of an HTTP date (IMF-fixdate, RFC 850 or asctime form), or
 * undefined when it is not a date: a bad `If-Modified-Since` is ignored, as Swift does.
 */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  // Accept only the three HTTP forms, not every string Date.parse would guess at.
  if (!/^[A-Za-z]{3},? ?\d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/.test(v) && !/^[A-Za-z]{3,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/.test(v) && !/^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/.test(v)) {
    return undefined;
  }
  const ms = Date.parse(/GMT$/.test(v) ? v : `${v} GMT`);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
