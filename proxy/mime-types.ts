/** Content types by file extension, for objects PUT without one (Swift guesses with `mimetypes`). */
const TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain', html: 'text/html', htm: 'text/html', css: 'text/css', csv: 'text/csv', js: 'application/javascript',
  json: 'application/json', xml: 'application/xml', pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip',
  tgz: 'application/gzip', tar: 'application/x-tar', bz2: 'application/x-bzip2', xz: 'application/x-xz', '7z': 'application/x-7z-compressed',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', svg: 'image/svg+xml', webp: 'image/webp', ico: 'image/vnd.microsoft.icon',
  mp3: 'audio/mpeg', wav: 'audio/x-wav', mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime', avi: 'video/x-msvideo',
  iso: 'application/x-iso9660-image', img: 'application/octet-stream', qcow2: 'application/octet-stream', md: 'text/markdown', yaml: 'application/yaml', yml: 'application/yaml',
};

/** The content type for an object name, `application/octet-stream` when unknown. */
export function guessContentType(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? (TYPES[base.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream') : 'application/octet-stream';
}
