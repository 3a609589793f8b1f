import { readdir, readFile } from 'node:fs/promises';

const TICK = 100; // CLK_TCK on Linux

/** What /proc says of a group of processes at one moment, summed. */
export interface ProcessSample {
  /** CPU seconds in user mode. */
  user: number;
  /** CPU seconds in the kernel. */
  sys: number;
  minflt: number;
  hwmKb: number;
  rssKb: number;
}

/** A process and its children (the proxy's workers), from /proc. */
export async function withChildren(pid: number): Promise<number[]> {
  const out = [pid];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/** CPU, page faults and resident sizes of `pids` now (a process gone counts nothing). */
export async function sampleProcesses(pids: readonly number[]): Promise<ProcessSample> {
  const s: ProcessSample = { user: 0, sys: 0, minflt: 0, hwmKb: 0, rssKb: 0 };
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    // Fields after the command: state is [0], so field n (1-based, man proc) is [n - 3].
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    s.minflt += Number(f[7]);
    s.user += Number(f[11]) / TICK;
    s.sys += Number(f[12]) / TICK;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    s.hwmKb += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    s.rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return s;
}
