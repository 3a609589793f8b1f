/**
 * A child process (`node --expose-gc`, UV_THREADPOOL_SIZE=4) that lists libvirt's
 * `test:///default` domains through `LibvirtHypervisor` the way a storage node under load does:
 * code hot enough to be optimized, the libuv pool busy (here with PBKDF2, there with disk I/O)
 * so the binding's calls wait in its queue, and garbage collections meanwhile. Prints one JSON
 * line `{ lists, names, failures }`; a binding that frees a domain under its worker kills it
 * with SIGSEGV instead (or fails a list with "invalid domain pointer in virDomainGetName").
 *
 * argv: <stateDir> <rounds>
 */
import { pbkdf2 } from 'node:crypto';
import { LibvirtHypervisor } from '../../compute/agent/hypervisor/libvirt.ts';
import { systemClock } from '../../common/clock.ts';

const [stateDir = '/tmp', roundsArg = '10'] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const POOL = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);

const hv = await LibvirtHypervisor.open({ uri: 'test:///default', stateDir, clock: systemClock });
// Warm: the crash needs optimized code, which drops locals dead after an await.
for (let i = 0; i < 1500; i++) await hv.list();

const occupyPool = (): Promise<unknown>[] => Array.from({ length: POOL }, () => new Promise((resolve) => pbkdf2('k', 's', 300_000, 32, 'sha256', resolve)));
let lists = 0;
const names = new Set<string>();
const failures: string[] = [];
for (let round = 0; round < Number(roundsArg); round++) {
  const listing = Promise.allSettled(Array.from({ length: 20 }, () => hv.list()));
  const busy = occupyPool();
  const collecting = setInterval(gc, 2);
  await Promise.all(busy);
  for (const r of await listing) {
    if (r.status === 'fulfilled') {
      lists++;
      for (const d of r.value) names.add(d.name);
    } else failures.push(String(r.reason instanceof Error ? r.reason.message : r.reason));
  }
  clearInterval(collecting);
}
await hv.close();
process.stdout.write(`${JSON.stringify({ lists, names: [...names], failures })}\n`);
