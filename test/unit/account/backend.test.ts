import { AccountDatadir } from '../../../account/backend.ts';
import { LevelKv } from '../../../common/db/level-kv.ts';
import { MemoryKv } from '../../../common/db/memory-kv.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';
import { suite } from '../../conformance/account-broker.ts';

const dir = await makeTempDir('swiftlet-account-broker-');
let n = 0;

suite('LevelDB', {
  open: async (clock) => new AccountDatadir(await LevelKv.open(`${dir.path}/accounts-${n++}`), { clock }),
  cleanup: () => dir.remove(),
});

suite('memory', {
  open: async (clock) => new AccountDatadir(new MemoryKv(), { clock }),
  cleanup: async () => {},
});
