import { attachmentRoutes } from './attachments.ts';
import { availabilityZoneRoutes } from './availability-zones.ts';
import { backupRecordRoutes } from './backup-records.ts';
import { backupRoutes } from './backups.ts';
import { extensionRoutes } from './extensions.ts';
import { limitsRoutes } from './limits.ts';
import { messageRoutes } from './messages.ts';
import { metadataRoutes } from './metadata-routes.ts';
import { resourceFilterRoutes } from './resource-filters.ts';
import { serviceRoutes } from './services.ts';
import { quotaClassSetRoutes } from './quota-class-sets.ts';
import { quotaSetRoutes } from './quota-sets.ts';
import type { VolumeApiDeps } from './deps.ts';
import { projectRoutes, type Route } from './request.ts';
import { qosSpecRoutes } from './qos-specs.ts';
import { snapshotRoutes } from './snapshots.ts';
import { transferRoutes } from './transfers.ts';
import { typeAccessRoutes } from './type-access.ts';
import { typeEncryptionRoutes } from './type-encryption.ts';
import { typeRoutes } from './types.ts';
import { versionRoutes } from './versions.ts';
import { volumeRoutes } from './volumes.ts';
import { volumeSummaryRoutes } from './volume-summary.ts';

/** Every route of the volume API (Cinder v3), with and without the project id in the path. */
export function volumeApiRoutes(deps: VolumeApiDeps): Route[] {
  return [...versionRoutes(), ...projectRoutes([...volumeSummaryRoutes(deps), ...volumeRoutes(deps), ...metadataRoutes(deps), ...attachmentRoutes(deps), ...snapshotRoutes(deps), ...backupRecordRoutes(deps), ...backupRoutes(deps), ...typeRoutes(deps), ...typeAccessRoutes(deps), ...typeEncryptionRoutes(deps), ...qosSpecRoutes(deps), ...quotaSetRoutes(deps), ...quotaClassSetRoutes(deps), ...limitsRoutes(deps), ...serviceRoutes(deps), ...availabilityZoneRoutes(deps), ...messageRoutes(), ...transferRoutes(deps), ...resourceFilterRoutes(), ...extensionRoutes()])];
}
