/**
 * Spreads one ring's nodes over request slots as `X-<Prefix>-Host/-Device/-Partition` headers
 * (Swift's container-update, account-update and expirer-queue headers): every node lands on
 * some slot, and each slot gets at least one node while there are nodes.
 */
export function spreadUpdateHeaders(slots: number, prefix: 'Account' | 'Container' | 'Delete-At', partition: number, nodes: readonly { ip: string; port: number; device: string }[]): Record<string, string>[] {
  const headers = Array.from({ length: slots }, () => ({}) as Record<string, string>);
  if (nodes.length === 0) return headers;
  const lower = prefix.toLowerCase();
  for (let i = 0; i < Math.max(slots, nodes.length); i++) {
    const node = nodes[i % nodes.length] as { ip: string; port: number; device: string };
    const h = headers[i % slots] as Record<string, string>;
    const host = `${node.ip.includes(':') ? `[${node.ip}]` : node.ip}:${node.port}`;
    if ((h[`x-${lower}-host`] ?? '').split(',').includes(host) && (h[`x-${lower}-device`] ?? '').split(',').includes(node.device)) continue;
    h[`x-${lower}-host`] = h[`x-${lower}-host`] ? `${h[`x-${lower}-host`]},${host}` : host;
    h[`x-${lower}-device`] = h[`x-${lower}-device`] ? `${h[`x-${lower}-device`]},${node.device}` : node.device;
    h[`x-${lower}-partition`] = String(partition);
  }
  return headers;
}
