import { type VolumeRecord, type VolumeRecords, VOLUMES } from '../records.ts';

/** Whether any volume, in any project, is of the type (what Cinder checks before changing one). */
export async function typeInUse(records: VolumeRecords, typeId: string): Promise<boolean> {
  return (await records.list<VolumeRecord>(VOLUMES, undefined)).some((v) => v.volume_type_id === typeId);
}
