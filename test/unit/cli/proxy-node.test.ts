import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProxyConfig } from '../../../cli/node-config.ts';
import { runProxy } from '../../../cli/proxy-node.ts';
import { RingBuilder } from '../../../ring/builder.ts';
import { writeRingFile } from '../../../ring/io.ts';
import { systemClock } from '../../../common/clock.ts';
import { createLogger } from '../../../common/logger.ts';
import { httpRequest } from '../../helpers/http.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

test('the middleware sections of a proxy config reach the middlewares and /info', async () => {
  const dir = await makeTempDir();
  try {
    for (const kind of ['account', 'container', 'object']) {
      const builder = RingBuilder.create({ partPower: 4, replicas: 1, minPartHours: 0 }, systemClock);
      builder.addDevice({ region: 1, zone: 1, ip: '127.0.0.1', port: 1, device: 'd1', weight: 1 });
      builder.rebalance();
      await writeRingFile(join(dir.path, `${kind}.ring.gz`), builder.ringData());
    }
    const path = join(dir.path, 'proxy.conf');
    await writeFile(path, [
      '[swift-hash]', 'swift_hash_path_suffix = s',
      '[proxy-server]', 'bind_ip = 127.0.0.1', 'bind_port = 0', `swift_dir = ${dir.path}`,
      '[slo]', 'max_manifest_segments = 5',
      '[dlo]', 'rate_limit_after_segment = 3',
      '[bulk]', 'max_deletes_per_request = 7',
      '[tempurl]', 'methods = GET HEAD', 'allowed_digests = sha256 sha512',
      '[ratelimit]', 'container_ratelimit_10 = 5', 'container_ratelimit_100 = 2.5', 'max_sleep_time_seconds = 30',
      '[formpost]', 'allowed_digests = sha512',
      '[etag-quoter]', 'enable_by_default = true',
      '[domain_remap]', 'storage_domain = a.example, b.example', 'default_reseller_prefix = AUTH',
      '[list-endpoints]', 'list_endpoints_path = /where/',
      '[crossdomain]', 'cross_domain_policy = <allow-access-from domain="a.example" />', '  <allow-access-from domain="b.example" />', '',
      '[staticweb]', 'url_base = https:',
      '[container-quotas]', '[account-quotas]',
    ].join('\n'));
    const proxy = await runProxy(loadProxyConfig(path), { logger: createLogger({ level: 'error' }) });
    try {
      const info = JSON.parse((await httpRequest(proxy.port, 'GET', '/info')).body.toString());
      assert.is(info.slo.max_manifest_segments, 5);
      assert.is(info.dlo.rate_limit_after_segment, 3);
      assert.is(info.bulk_delete.max_deletes_per_request, 7);
      assert.equal(info.tempurl.methods, ['GET', 'HEAD']);
      assert.equal(info.tempurl.allowed_digests, ['sha256', 'sha512']);
      assert.equal(info.ratelimit, { account_ratelimit: 0, max_sleep_time_seconds: 30, container_ratelimits: [[10, 5], [100, 2.5]], container_listing_ratelimits: [] });
      assert.equal(info.formpost, { allowed_digests: ['sha512'] });
      assert.equal(info.etag_quoter, { enable_by_default: true });
      assert.equal(info.domain_remap, { default_reseller_prefix: 'AUTH' });
      for (const name of ['staticweb', 'crossdomain', 'container_quotas', 'account_quotas']) assert.equal(info[name], {}, name);
      const policy = await httpRequest(proxy.port, 'GET', '/crossdomain.xml');
      assert.match(policy.body.toString(), '<cross-domain-policy>\n<allow-access-from domain="a.example" />\n<allow-access-from domain="b.example" />\n</cross-domain-policy>');
      const endpoints = await httpRequest(proxy.port, 'GET', '/where/AUTH_x');
      assert.match(endpoints.body.toString(), /^\["http:\/\/127\.0\.0\.1:1\/d1\/\d+\/AUTH_x"\]$/);
    } finally {
      await proxy.close();
    }
  } finally {
    await dir.remove();
  }
});

test('a bad value in a middleware section is refused with the section and key named', async () => {
  const dir = await makeTempDir();
  try {
    const path = join(dir.path, 'proxy.conf');
    await writeFile(path, '[swift-hash]\nswift_hash_path_suffix = s\n[slo]\nmax_manifest_segments = lots\n');
    assert.throws(() => loadProxyConfig(path), /slo.*max_manifest_segments/);
  } finally {
    await dir.remove();
  }
});

test.run();
