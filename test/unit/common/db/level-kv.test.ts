import { LevelKv } from '../../../../common/db/level-kv.ts';
import type { OrderedKv } from '../../../../common/db/kv.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';
import { suite } from '../../../conformance/ordered-kv.ts';

const dir = await makeTempDir('swiftlet-level-kv-');
let n = 0;
const paths = new Map<OrderedKv, string>();

suite('LevelKv', {
  async open() {
    const path = `${dir.path}/db${n++}`;
    const kv = await LevelKv.open(path);
    paths.set(kv, path);
    return kv;
  },
  async reopen(kv) {
    const path = paths.get(kv) as string;
    await kv.close();
    const again = await LevelKv.open(path);
    paths.set(again, path);
    return again;
  },
  cleanup: () => dir.remove(),
});
