import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_CONF, type ConfigOf, loadConfigFile, type RawConfig, readConfigFile, swiftHashSchema } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { type ComputeAgentNodeConfig, computeAgentNodeSchemas } from './compute-agent-node.ts';
import { type ComputeNodeConfig, computeNodeSchemas } from './compute-node.ts';
import { type IdentityNodeConfig, identityNodeSchemas } from './identity-node.ts';
import { type NetworkNodeConfig, networkNodeSchemas } from './network-node.ts';
import { type ImageNodeConfig, imageNodeSchemas } from './image-node.ts';
import { storagePolicySchema } from '../common/storage-policy.ts';
import { type ProxyNodeConfig, proxyNodeSchemas } from './proxy-node.ts';
import { type StorageNodeConfig, storageNodeSchemas } from './storage-node.ts';
import { type VolumeNodeConfig, volumeNodeSchemas } from './volume-node.ts';

/**
 * Loading a node's config file, for every role. One file may hold several roles' sections (a
 * machine that runs a proxy and a storage node), so each role accepts the others' sections;
 * any other section name is refused (a misspelled `[object-sever]` would leave the node on
 * defaults).
 *
 * The hash-path secret and the storage policies are the cluster's, like Swift's
 * `/etc/swift/swift.conf`: they are read from `swiftlet.conf` in the node's `swift_dir`, the
 * one file copied to every machine. A node's own `[swift-hash]` (or `[storage-policy:N]`
 * sections) is used when that file has none, and must agree with it when both have them.
 */

/** Sections of `swiftlet.conf`: Swift's `swift.conf` has these (policies and constraints are read by their own code). */
const CLUSTER_CONF_SECTIONS = ['storage-policy:*', 'swift-constraints'];

const ALL_ROLE_SECTIONS = [...new Set([...Object.keys(storageNodeSchemas), ...Object.keys(proxyNodeSchemas), ...Object.keys(identityNodeSchemas), ...Object.keys(imageNodeSchemas), ...Object.keys(computeNodeSchemas), ...Object.keys(computeAgentNodeSchemas), ...Object.keys(networkNodeSchemas), ...Object.keys(volumeNodeSchemas)])];

export function loadStorageNodeConfig(path: string): StorageNodeConfig {
  const config = loadConfigFile(path, storageNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
  const swiftDir = config.storage.swift_dir;
  return { ...config, 'swift-hash': clusterSecret(config['swift-hash'], swiftDir, path), 'storage-policy:*': clusterPolicies(config['storage-policy:*'], swiftDir, path) };
}

export function loadProxyConfig(path: string): ProxyNodeConfig {
  const config = loadConfigFile(path, proxyNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
  const swiftDir = config['proxy-server'].swift_dir;
  return { ...config, 'swift-hash': clusterSecret(config['swift-hash'], swiftDir, path), 'storage-policy:*': clusterPolicies(config['storage-policy:*'], swiftDir, path) };
}

/** The identity service's config: its `[identity]` section, other roles' sections allowed beside it. */
export function loadIdentityConfig(path: string): IdentityNodeConfig {
  return loadConfigFile(path, identityNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
}

/** The compute API's config: its `[compute]` section, other roles' sections allowed beside it. */
export function loadComputeConfig(path: string): ComputeNodeConfig {
  return loadConfigFile(path, computeNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
}

/** A compute host's agent config: its `[compute-agent]` section, other roles' sections allowed beside it. */
export function loadComputeAgentConfig(path: string): ComputeAgentNodeConfig {
  return loadConfigFile(path, computeAgentNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
}

/** The volume service's config: its `[volume]` section, other roles' sections allowed beside it. */
export function loadVolumeConfig(path: string): VolumeNodeConfig {
  return loadConfigFile(path, volumeNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
}

/** The image service's config: its `[image]` section, other roles' sections allowed beside it. */
export function loadImageConfig(path: string): ImageNodeConfig {
  return loadConfigFile(path, imageNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
}

/** Which role a config file is for: the one whose main section it has (`[storage]` or `[proxy-server]`). */
export function configRole(path: string): 'storage' | 'proxy' | undefined {
  const raw: RawConfig = readConfigFile(path);
  if ('storage' in raw || 'object-server' in raw) return 'storage';
  if ('proxy-server' in raw) return 'proxy';
  return undefined;
}

type SwiftHash = ConfigOf<typeof swiftHashSchema>;

/**
 * The secret a node uses: `swift_dir/swiftlet.conf`'s, else the node file's own.
 * @throws {ConfigError} when both are set and differ (one machine with another secret answers
 *   404 for everything it holds and writes what it is sent where no other node looks).
 */
export function clusterSecret(own: SwiftHash, swiftDir: string, source: string): SwiftHash {
  const file = join(swiftDir, CLUSTER_CONF);
  if (!existsSync(file)) return own;
  const shared = loadConfigFile(file, { 'swift-hash': swiftHashSchema }, { otherSections: CLUSTER_CONF_SECTIONS })['swift-hash'];
  if (isSet(shared) && isSet(own) && (shared.swift_hash_path_prefix !== own.swift_hash_path_prefix || shared.swift_hash_path_suffix !== own.swift_hash_path_suffix)) {
    throw new ConfigError('swift-hash', undefined, `${source} sets a hash-path secret that differs from ${file}'s; every node must use the cluster's (remove [swift-hash] from ${source}, or make it the same)`);
  }
  return isSet(shared) ? shared : own;
}

function isSet(hash: SwiftHash): boolean {
  return hash.swift_hash_path_prefix !== '' || hash.swift_hash_path_suffix !== '';
}

type PolicySections = Readonly<Record<string, ConfigOf<typeof storagePolicySchema>>>;

/**
 * The `[storage-policy:N]` sections a node uses: `swift_dir/swiftlet.conf`'s, else the node
 * file's own (none at all: one policy, `Policy-0`).
 * @throws {ConfigError} when both have sections and they differ (a node with other policies
 *   reads and writes objects in other places than the rest of the cluster).
 */
export function clusterPolicies(own: PolicySections, swiftDir: string, source: string): PolicySections {
  const file = join(swiftDir, CLUSTER_CONF);
  if (!existsSync(file)) return own;
  const shared = loadConfigFile(file, { 'storage-policy:*': storagePolicySchema }, { otherSections: ['swift-hash', 'swift-constraints'] })['storage-policy:*'];
  if (Object.keys(shared).length === 0) return own;
  if (Object.keys(own).length > 0 && canonical(own) !== canonical(shared)) {
    throw new ConfigError('storage-policy', undefined, `${source} declares storage policies that differ from ${file}'s; every node must use the cluster's (remove the [storage-policy:N] sections from ${source}, or make them the same)`);
  }
  return shared;
}

function canonical(sections: PolicySections): string {
  return JSON.stringify(Object.keys(sections).sort().map((k) => [k, sections[k]]));
}

/** The network service's config: its `[network]` section, other roles' sections allowed beside it. */
export function loadNetworkConfig(path: string): NetworkNodeConfig {
  return loadConfigFile(path, networkNodeSchemas, { otherSections: ALL_ROLE_SECTIONS });
}
