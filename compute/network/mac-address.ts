import { InvalidAttribute, MacAddressGenerationFailure } from './errors.ts';

/** Neutron's `base_mac` default: OpenStack's OUI, the rest drawn at random. */
export const DEFAULT_BASE_MAC = 'fa:16:3e:00:00:00';

/** Neutron's `mac_generation_retries`: draws before a network is declared out of MACs. */
export const MAC_GENERATION_RETRIES = 16;

const MAC = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/**
 * A MAC address as Neutron stores it (lower case, colons), for `mac_address` in a port request.
 * @throws {InvalidAttribute} "'x' is not a valid MAC address"; also for the all-zero and broadcast
 * MACs (neutron-lib's `INVALID_MAC_ADDRESSES`; a multicast one is accepted, as Neutron does).
 */
export function normalizeMac(text: string): string {
  if (typeof text !== 'string' || !MAC.test(text)) throw new InvalidAttribute('mac_address', `'${text}' is not a valid MAC address`);
  const mac = text.toLowerCase().replaceAll('-', ':');
  if (mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff') throw new InvalidAttribute('mac_address', `'${text}' is not a valid MAC address`);
  return mac;
}

/**
 * neutron-lib's `get_random_mac`: the base's first three octets, its fourth too unless it is
 * 00, the rest from `random` (a source of numbers in [0, 1)).
 */
export function randomMac(baseMac: string, random: () => number): string {
  const base = baseMac.toLowerCase().split(':');
  const octets = [0, 1, 2].map((i) => Number.parseInt(base[i] ?? '0', 16));
  for (let i = 3; i < 6; i++) octets.push(Math.floor(random() * 256));
  if (base[3] !== undefined && base[3] !== '00') octets[3] = Number.parseInt(base[3], 16);
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

/**
 * A MAC no port of the network has (Neutron draws and retries on a duplicate).
 * @throws {MacAddressGenerationFailure} after `MAC_GENERATION_RETRIES` duplicates.
 */
export function generateMac(networkId: string, inUse: ReadonlySet<string>, random: () => number, baseMac = DEFAULT_BASE_MAC): string {
  for (let i = 0; i < MAC_GENERATION_RETRIES; i++) {
    const mac = randomMac(baseMac, random);
    if (!inUse.has(mac)) return mac;
  }
  throw new MacAddressGenerationFailure(networkId);
}
