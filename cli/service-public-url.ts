/**
 * The URL a service gives clients (its catalog entries, links, `Location`): its configured
 * `public_url`, else its bind address and port (IPv6 in brackets), without a trailing slash.
 */
export function servicePublicUrl(config: { readonly public_url: string; readonly bind_ip: string }, port: number): string {
  return (config.public_url || `http://${config.bind_ip.includes(':') ? `[${config.bind_ip}]` : config.bind_ip}:${port}`).replace(/\/+$/, '');
}
