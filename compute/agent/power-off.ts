import { DomainNotFound } from './hypervisor/errors.ts';
import type { Hypervisor } from './hypervisor/types.ts';

/**
 * Nova's `_power_off_instance` before a shelve or a rescue: a clean shutdown within `timeoutMs`
 * when asked (a paused guest cannot act on it and is powered off at once), else at once. A
 * suspended guest's saved memory is restored first and then dropped with the guest, so what
 * remains is a guest that is off, as a start expects. A domain already off or gone is left.
 */
export async function powerOff(hypervisor: Hypervisor, name: string, options: { readonly clean: boolean; readonly timeoutMs: number }): Promise<void> {
  const state = async () => hypervisor.info(name).then((i) => i.powerState, (err) => {
    if (err instanceof DomainNotFound) return undefined;
    throw err;
  });
  let now = await state();
  if (now === 'suspended') {
    await hypervisor.resume(name);
    now = await state();
  }
  if (now === undefined || now === 'shutdown') return;
  if (options.clean && now === 'running') await hypervisor.stop(name, { timeoutMs: options.timeoutMs });
  else await hypervisor.destroy(name);
}
