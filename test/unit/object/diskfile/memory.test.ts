import { HashPath } from '../../../../common/hash-path.ts';
import { MemoryDiskFileManager } from '../../../../object/diskfile/memory.ts';
import { diskFileSuite } from '../../../conformance/diskfile.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

diskFileSuite('memory', async () => {
  const clock = new ManualClock();
  return {
    manager: new MemoryDiskFileManager({ devices: ['sda'], hashPath: new HashPath('', 'test'), clock }),
    clock,
    device: 'sda',
    missingDevice: 'sdz',
    cleanup: async () => {},
  };
});
