import type { VolumeRecord } from '../records.ts';
import type { VolumeApiDeps } from './deps.ts';

/** The limits Cinder scales with the volume's size when a spec gives them `_per_gb`. */
const TUNE_OPTS = ['read_iops_sec', 'read_bytes_sec', 'write_iops_sec', 'write_bytes_sec', 'total_iops_sec', 'total_bytes_sec'];

/**
 * What an attachment's connection carries as `data.qos_specs` (Cinder's
 * manager._parse_connection_options): the specs of the QoS associated with the volume's type
 * when the hypervisor is to apply them (consumer `front-end` or `both`), with the `<opt>_per_gb`
 * ones turned into `<opt>` for the volume's size (at least `<opt>_per_gb_min`, at most
 * `<opt>_max`); null otherwise. Nova writes them as the disk's `<iotune>`.
 */
export async function frontEndQos(deps: Pick<VolumeApiDeps, 'types' | 'qosSpecs'>, volume: VolumeRecord): Promise<Record<string, string | number | null> | null> {
  const qosId = (await deps.types.get(volume.volume_type_id))?.qos_specs_id;
  const qos = qosId ? await deps.qosSpecs.get(qosId) : undefined;
  if (!qos || qos.consumer === 'back-end') return null;
  const specs: Record<string, string | number | null> = { ...qos.specs };
  const int = (v: string | number | null | undefined): number => Number.parseInt(String(v ?? 0), 10) || 0;
  for (const option of TUNE_OPTS) {
    const perGb = `${option}_per_gb`;
    if (!(perGb in specs)) continue;
    const minimum = int(specs[`${option}_per_gb_min`]);
    const value = Math.max(minimum, int(specs[perGb]) * volume.size);
    const max = `${option}_max` in specs ? int(specs[`${option}_max`]) : value;
    delete specs[`${option}_per_gb_min`];
    delete specs[`${option}_max`];
    delete specs[perGb];
    specs[option] = Math.min(value, max);
  }
  return specs;
}
