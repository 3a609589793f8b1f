import { MemoryBackupObjectStore } from '../../../../../compute/volume/backup/memory-object-store.ts';
import { suite } from '../../../../conformance/backup-object-store.ts';

suite('memory', { open: async () => new MemoryBackupObjectStore(), cleanup: async () => undefined });
