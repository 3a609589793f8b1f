import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runIdentityManage } from '../../../cli/identity-manage.ts';
import { runIdentity } from '../../../cli/identity-node.ts';
import { loadIdentityConfig } from '../../../cli/node-config.ts';
import { ConfigError } from '../../../common/errors.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';
import { rejects } from '../../helpers/rejects.ts';

const io = () => {
  const lines: string[] = [];
  return { lines, out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
};

test('identity-manage fernet_setup then fernet_rotate, by directory or by the config\'s key_repository', async () => {
  const tmp = await makeTempDir('identity-manage-');
  try {
    const dir = join(tmp.path, 'keys');
    const a = io();
    assert.is(runIdentityManage(['fernet_setup', '--key-repository', dir], a), 0);
    assert.equal(readdirSync(dir).sort(), ['0', '1']);
    const conf = join(tmp.path, 'identity.conf');
    writeFileSync(conf, `[identity]\nkey_repository = ${dir}\nmax_active_keys = 4\n`);
    for (let i = 0; i < 3; i++) assert.is(runIdentityManage(['fernet_rotate', '--config', conf], io()), 0);
    assert.equal(readdirSync(dir).sort(), ['0', '2', '3', '4'], 'four active keys, from the config');
    const b = io();
    assert.is(runIdentityManage(['fernet_rotate'], b), 2);
    assert.match(b.lines.join('\n'), /which key repository/);
    assert.is(runIdentityManage(['frobnicate', '--key-repository', dir], io()), 2);
  } finally {
    await tmp.remove();
  }
});

test('[identity] config: an unknown key is refused naming it; the account key and admin password are required', async () => {
  const tmp = await makeTempDir('identity-conf-');
  try {
    const conf = join(tmp.path, 'identity.conf');
    writeFileSync(conf, '[identity]\nbind_prot = 5000\n');
    assert.throws(() => loadIdentityConfig(conf), (err: unknown) => err instanceof ConfigError && err.key === 'identity.bind_prot');
    writeFileSync(conf, '[identity]\nbind_port = 0\n');
    const config = loadIdentityConfig(conf);
    assert.is(config.identity.token_expiration, 3600);
    await rejects(runIdentity(config), (err: unknown) => err instanceof ConfigError && err.key === 'identity.account_key');
    writeFileSync(conf, '[identity]\nbind_port = 0\naccount_key = k\n');
    await rejects(runIdentity(loadIdentityConfig(conf)), (err: unknown) => err instanceof ConfigError && err.key === 'identity.admin_password');
  } finally {
    await tmp.remove();
  }
});

test.run();
