import { ContainerDatadir } from '../../../container/backend.ts';
import { LevelKv } from '../../../common/db/level-kv.ts';
import { MemoryKv } from '../../../common/db/memory-kv.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';
import { suite } from '../../conformance/container-broker.ts';

const dir = await makeTempDir('swiftlet-container-broker-');
let n = 0;

suite('LevelDB', {
  open: async (clock) => new ContainerDatadir(await LevelKv.open(`${dir.path}/containers-${n++}`), { clock }),
  cleanup: () => dir.remove(),
});

suite('memory', {
  open: async (clock) => new ContainerDatadir(new MemoryKv(), { clock }),
  cleanup: async () => {},
});
