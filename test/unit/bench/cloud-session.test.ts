import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cloudLogin, cloudsFile } from '../../../bench/cloud-session.ts';
import { ADMIN_PASSWORD, startIdentity } from '../../helpers/identity.ts';
import { rejects } from '../../helpers/rejects.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

test("cloudLogin: a project token, its project and the catalog's public URLs from a clouds.yaml cloud; a cloud not in the file or a bad password is refused", async () => {
  const identity = await startIdentity();
  const dir = await makeTempDir('clouds-');
  try {
    const file = join(dir.path, 'clouds.yaml');
    const cloud = (password: string) => [`    auth:`, `      auth_url: ${identity.url}/v3/`, '      username: admin', `      password: ${password}`, '      project_name: admin', '      user_domain_name: Default', '      project_domain_name: Default'];
    await writeFile(file, ['clouds:', '  swiftlet-admin:', ...cloud(ADMIN_PASSWORD), '  wrong:', ...cloud('nope'), ''].join('\n'));
    const s = await cloudLogin(file, 'swiftlet-admin');
    const check = await identity.request('GET', '/v3/auth/tokens', { token: s.token, headers: { 'X-Subject-Token': s.token } });
    assert.is(check.status, 200);
    assert.is(s.projectId, check.json.token.project.id);
    assert.is(s.url('identity'), `${identity.url}/v3`);
    assert.throws(() => s.url('compute'), /no compute endpoint/);
    await rejects(cloudLogin(file, 'missing'), /no cloud missing in/);
    await rejects(cloudLogin(file, 'wrong'), /token for wrong: 401/);
    assert.is(cloudsFile(undefined, undefined), 'data/etc/clouds.yaml');
    assert.is(cloudsFile(undefined, '/etc/openstack/clouds.yaml'), '/etc/openstack/clouds.yaml');
    assert.is(cloudsFile('mine.yaml', '/etc/openstack/clouds.yaml'), 'mine.yaml');
  } finally {
    await dir.remove();
    await identity.close();
  }
});

test.run();
