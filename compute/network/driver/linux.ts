import { execFile } from 'node:child_process';
import { EMPTY_PLAN, planChanges, planHost } from './host-plan.ts';
import { isOwnChain } from './iptables-rules.ts';
import type { HostNetworkConfig, NetworkDriver, NetworkDriverSupports, NetworkPlan, PlannedDevice, SyncResult } from './types.ts';

/** Runs one command (`ip`, `iptables-restore`, ...) with optional stdin; rejects on a non-zero exit. */
export type CommandRunner = (command: string, args: readonly string[], stdin?: string) => Promise<string>;

export const execRunner: CommandRunner = (command, args, stdin) =>
  new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { message: `${command} ${args.join(' ')}: ${String(stderr).trim() || err.message}` }));
      else resolve(String(stdout));
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });

export interface LinuxNetworkDriverOptions {
  /**
   * Change the host (config `apply_network`): the driver then needs root. Off, it only
   * plans, and `sync` reports the plan with `applied: false`.
   */
  readonly apply: boolean;
  /** How commands run (tests run them inside a network namespace of their own). */
  readonly run?: CommandRunner;
}

/**
 * The Linux network driver: plans a host as Neutron's linuxbridge agent and iptables firewall
 * would (`host-plan.ts`, `iptables-rules.ts`) and, when allowed, carries the plan out with
 * `ip` and `iptables-restore`/`ip6tables-restore` (our chains only: declared chains are
 * rewritten whole, chains of ports gone are deleted, the FORWARD and INPUT jumps added once).
 */
export class LinuxNetworkDriver implements NetworkDriver {
  readonly supports: NetworkDriverSupports;
  private readonly run: CommandRunner;
  private plan: NetworkPlan = EMPTY_PLAN;

  constructor(options: LinuxNetworkDriverOptions) {
    this.supports = { applies: options.apply };
    this.run = options.run ?? execRunner;
  }

  async sync(config: HostNetworkConfig): Promise<SyncResult> {
    const plan = planHost(config);
    const changes = planChanges(this.plan, plan);
    if (this.supports.applies) await this.apply(this.plan, plan);
    this.plan = plan;
    return { plan, changes, applied: this.supports.applies };
  }

  async current(): Promise<NetworkPlan> {
    return this.plan;
  }

  private async exists(args: readonly string[]): Promise<boolean> {
    try {
      await this.run('ip', args);
      return true;
    } catch {
      return false;
    }
  }

  private async apply(before: NetworkPlan, after: NetworkPlan): Promise<void> {
    for (const bridge of after.bridges) {
      if (!(await this.exists(['link', 'show', 'dev', bridge]))) await this.run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
      await this.run('ip', ['link', 'set', 'dev', bridge, 'up']);
    }
    const wanted = new Set(after.devices.map((d) => JSON.stringify(d)));
    for (const old of before.devices) if (!wanted.has(JSON.stringify(old))) await this.removeDevice(old, after);
    for (const d of after.devices) await this.addDevice(d);
    for (const bridge of before.bridges) {
      if (!after.bridges.includes(bridge) && (await this.exists(['link', 'show', 'dev', bridge]))) await this.run('ip', ['link', 'del', 'dev', bridge]);
    }
    await this.applyFirewall('iptables', after.iptables.ipv4);
    await this.applyFirewall('ip6tables', after.iptables.ipv6);
  }

  private async addDevice(d: PlannedDevice): Promise<void> {
    if (d.kind === 'veth' && d.peer !== undefined && d.namespace !== undefined) {
      if (!(await this.exists(['netns', 'exec', d.namespace, 'true']))) await this.run('ip', ['netns', 'add', d.namespace]);
      if (!(await this.exists(['link', 'show', 'dev', d.name]))) {
        await this.run('ip', ['link', 'add', 'name', d.name, 'type', 'veth', 'peer', 'name', d.peer, 'netns', d.namespace]);
        await this.run('ip', ['-n', d.namespace, 'link', 'set', 'dev', d.peer, 'address', d.mac, 'up']);
      }
    } else if (!(await this.exists(['link', 'show', 'dev', d.name]))) {
      return; // a guest's tap appears when the hypervisor starts it, and joins the bridge then
    }
    await this.run('ip', ['link', 'set', 'dev', d.name, 'master', d.bridge, 'up']);
  }

  private async removeDevice(d: PlannedDevice, after: NetworkPlan): Promise<void> {
    if (d.kind === 'veth' && (await this.exists(['link', 'show', 'dev', d.name]))) await this.run('ip', ['link', 'del', 'dev', d.name]);
    if (d.namespace !== undefined && !after.devices.some((o) => o.namespace === d.namespace)) {
      if (await this.exists(['netns', 'exec', d.namespace, 'true'])) await this.run('ip', ['netns', 'del', d.namespace]);
    }
  }

  private async applyFirewall(command: 'iptables' | 'ip6tables', lines: readonly string[]): Promise<void> {
    // The jumps from the built-in chains are added once, not appended on every restore.
    const hooks = lines.filter((l) => /^-A (FORWARD|INPUT) /.test(l));
    const body = lines.filter((l) => !hooks.includes(l));
    await this.run(`${command}-restore`, ['--noflush'], `${body.join('\n')}\n`);
    for (const hook of hooks) {
      const args = hook.split(' ').slice(1);
      try {
        await this.run(command, ['-C', ...args]);
      } catch {
        await this.run(command, ['-I', args[0] as string, '1', ...args.slice(1)]);
      }
    }
    const declared = new Set(body.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
    const existing = (await this.run(command, ['-S'])).split('\n').filter((l) => l.startsWith('-N ')).map((l) => l.slice(3).trim());
    for (const chain of existing) {
      if (isOwnChain(chain) && !declared.has(chain)) {
        await this.run(command, ['-F', chain]);
        await this.run(command, ['-X', chain]);
      }
    }
  }
}
