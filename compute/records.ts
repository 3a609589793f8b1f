/**
 * The compute service's records in its system account (`AUTH_.compute`), one container per
 * type (client/record-store.ts). Field names follow Nova's database where Nova has one.
 */
export const T = {
  /** Key: the flavor's id (`flavorid`). */
  flavors: 'flavors',
  /** Key: a flavor name; value `{flavorid}`, claimed create-if-absent so names stay unique. */
  flavorNames: 'flavor-names',
  /** Key: `<user_id>/<name>`. */
  keypairs: 'keypairs',
  /** Key: a project id; the limits an admin set (absent: the defaults). */
  quotas: 'quotas',
  /** Key: a quota class's name (os-quota-class-sets); `default` gives the defaults of projects. */
  quotaClasses: 'quota-classes',
  /** Key: a compute host's name; its `ComputeHostRecord`. */
  hosts: 'hosts',
  /** Key: `<binary>/<host>`: an API process's scheduler and conductor services (compute/control-service.ts). */
  services: 'services',
  /** Key: a server's UUID. */
  servers: 'servers',
  /**
   * Keys only (empty records): servers in Nova's default list order, newest first, so a page
   * is a listing from a marker (compute/server-index.ts). `p/<project>/<order>` and `a/<order>`.
   */
  serverIndex: 'server-index',
  /** Key: a server's UUID: a boot not yet queued for its host (Nova's BuildRequest). */
  buildRequests: 'build-requests',
  /** Key: `<host>/<ms, 15 digits>-<server uuid>-<task>`: work queued for a host's agent. */
  queue: 'queue',
  /** Key: a request id: the agent's answer to a `console` task, read and removed by the API. */
  consoleReplies: 'console-replies',
  /** Key: a request id: the agent's answer to an `attach-interface` task (work-queue.ts `InterfaceReply`), read and removed by the API. */
  interfaceReplies: 'interface-replies',
  /** Key: a server group's UUID (os-server-groups; compute/server-group-record.ts). */
  serverGroups: 'server-groups',
  /** Key: `<server uuid>/<request id>`: os-instance-actions. */
  actions: 'actions',
  /** Key: a server's UUID: its attached volumes (compute/block-device-record.ts). */
  blockDevices: 'block-devices',
  /** Key: a migration's UUID: resizes, cold migrations and evacuations (compute/migration-record.ts). */
  migrations: 'migrations',
  /** Key: a sequence's name (`migrations`); value `{last}`: integer ids handed out by compare-and-swap. */
  sequences: 'sequences',
  /** Key: an aggregate's integer id (os-aggregates; compute/aggregate-record.ts). */
  aggregates: 'aggregates',
  /** Key: an aggregate's name; value `{id}`, claimed create-if-absent so names stay unique. */
  aggregateNames: 'aggregate-names',
  /** Key: `<project id>/<server uuid>`: a deleted server as usage still counts it (compute/terminated-servers.ts). */
  terminatedServers: 'terminated-servers',
} as const;

export interface FlavorRecord {
  readonly flavorid: string;
  readonly name: string;
  readonly memory_mb: number;
  readonly vcpus: number;
  readonly root_gb: number;
  readonly ephemeral_gb: number;
  /** MiB; 0 for none. */
  readonly swap: number;
  readonly rxtx_factor: number;
  readonly is_public: boolean;
  readonly disabled: boolean;
  readonly description: string | null;
  readonly extra_specs: Readonly<Record<string, string>>;
  /** Projects given access to a private flavor (os-flavor-access). */
  readonly projects: readonly string[];
  readonly created_at: string;
}

export interface KeypairRecord {
  readonly id: number;
  readonly name: string;
  readonly user_id: string;
  readonly public_key: string;
  readonly fingerprint: string;
  /** `ssh` or `x509` (2.2). */
  readonly type: string;
  readonly created_at: string;
}

/** Nova's quota names and its defaults (`[quota]` in nova.conf). */
export const DEFAULT_QUOTAS = {
  instances: 10,
  cores: 20,
  ram: 51200,
  metadata_items: 128,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
} as const;

/**
 * nova-network's quotas: no longer enforced, kept as Nova keeps them (unlimited unless an admin
 * set them) so answers before 2.36 (2.50 for quota classes) keep their fields.
 */
export const NETWORK_QUOTAS = { fixed_ips: -1, floating_ips: -1, security_groups: -1, security_group_rules: -1 } as const;

/** Every quota Nova's API knows (its `QUOTAS.resources`). */
export type QuotaName = keyof typeof DEFAULT_QUOTAS | keyof typeof NETWORK_QUOTAS;

export interface QuotaRecord {
  readonly project_id: string;
  readonly limits: Partial<Record<QuotaName, number>>;
}

/** A quota class's limits as an admin set them (Nova's `quota_classes` rows). */
export interface QuotaClassRecord {
  readonly class_name: string;
  readonly limits: Partial<Record<QuotaName, number>>;
}
