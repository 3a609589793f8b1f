import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../../common/errors.ts';
import { decodeFernetKey } from '../../../../common/token/fernet.ts';
import { FernetKeyRepository, fernetRotate, fernetSetup, loadFernetKeys } from '../../../../common/token/key-repository.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

const files = (dir: string): string[] => readdirSync(dir).sort();
const key = (dir: string, n: number): Buffer => decodeFernetKey(readFileSync(join(dir, String(n)), 'utf8'));

test('fernet_setup: a staged key 0 and a primary 1, owner-only; a second setup changes nothing', async () => {
  const tmp = await makeTempDir('keys-');
  try {
    const dir = join(tmp.path, 'fernet-keys');
    assert.is(fernetSetup(dir), true);
    assert.equal(files(dir), ['0', '1']);
    assert.is(statSync(join(dir, '1')).mode & 0o777, 0o600);
    const before = loadFernetKeys(dir);
    assert.equal(before, [key(dir, 1), key(dir, 0)], 'primary first');
    assert.is(fernetSetup(dir), false);
    assert.equal(loadFernetKeys(dir), before);
  } finally {
    await tmp.remove();
  }
});

test('fernet_rotate: the staged key becomes primary, a new one is staged, the oldest go past max_active_keys', async () => {
  const tmp = await makeTempDir('keys-');
  try {
    fernetSetup(tmp.path);
    const staged = key(tmp.path, 0);
    const firstPrimary = key(tmp.path, 1);
    fernetRotate(tmp.path);
    assert.equal(files(tmp.path), ['0', '1', '2']);
    assert.equal(key(tmp.path, 2), staged);
    assert.equal(loadFernetKeys(tmp.path)[0], staged, 'the old staged key encrypts now');
    assert.equal(key(tmp.path, 1), firstPrimary, 'the old primary still opens tokens');
    fernetRotate(tmp.path);
    assert.equal(files(tmp.path), ['0', '2', '3'], 'three active keys: staged, primary, one secondary');
    fernetRotate(tmp.path, 4);
    assert.equal(files(tmp.path), ['0', '2', '3', '4']);
  } finally {
    await tmp.remove();
  }
});

test('a repository without keys is a ConfigError naming it', async () => {
  const tmp = await makeTempDir('keys-');
  try {
    assert.throws(() => loadFernetKeys(tmp.path), (err: unknown) => err instanceof ConfigError && err.message.includes('fernet_setup'));
  } finally {
    await tmp.remove();
  }
});

test('a running process sees a rotation at its next check, not before', async () => {
  const tmp = await makeTempDir('keys-');
  try {
    fernetSetup(tmp.path);
    const clock = new ManualClock();
    const repo = new FernetKeyRepository(tmp.path, clock, 5000);
    const first = repo.keys[0];
    fernetRotate(tmp.path);
    // Same-second rotations must not hide behind an unchanged mtime.
    utimesSync(tmp.path, new Date(), new Date(Date.now() + 2000));
    assert.equal(repo.keys[0], first);
    clock.advance(5000);
    assert.equal(repo.keys[0], key(tmp.path, 2));
    assert.is(repo.keys.length, 3);
  } finally {
    await tmp.remove();
  }
});

test.run();
