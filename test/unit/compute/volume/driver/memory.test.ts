import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { suite } from '../../../../conformance/volume-driver.ts';

suite('memory', { open: async () => new MemoryVolumeDriver(), cleanup: async () => undefined }, ['raw', 'qcow2']);
