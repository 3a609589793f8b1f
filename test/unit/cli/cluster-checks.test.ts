import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type NodeView, nodeFindings, proxyFindings, type Reference, ringFindings } from '../../../cli/cluster-checks.ts';

const reference: Reference = { source: 'proxy (/etc/swiftlet)', rings: { 'object.ring.gz': { md5: 'b', version: 3 }, 'container.ring.gz': { md5: 'c', version: 1 } }, secretDigest: 'aaaa' };

function node(name: string, over: Partial<NodeView> = {}): NodeView {
  return { name, ip: '127.0.0.2', port: 6200, up: true, rings: reference.rings, hashpath: { digest: 'aaaa', placement: { checked: 5, misplaced: 0 } }, disks: [{ device: 'sdb', mounted: true, size: 10, used: 1, avail: 9 }], ringDevices: ['sdb'], ...over };
}

test('a healthy cluster has no findings', () => {
  assert.equal(nodeFindings(reference, [node('swift1'), node('swift2')]), []);
});

test('ring files: older, newer, same version but another, missing, unreadable, extra', () => {
  const messages = (rings: NodeView['rings']): string[] => ringFindings(reference, rings ?? {}).map((f) => `${f.severity}: ${f.message}`);
  assert.match(messages({ ...reference.rings, 'object.ring.gz': { md5: 'a', version: 2 } })[0] ?? '', /^problem: STALE RING: its object\.ring\.gz is older than proxy \(\/etc\/swiftlet\)'s \(version 2, not 3\)/);
  assert.match(messages({ ...reference.rings, 'object.ring.gz': { md5: 'z', version: 4 } })[0] ?? '', /^problem: its object\.ring\.gz is newer than .* \(version 4, not 3\): the copy in .* is stale/);
  assert.match(messages({ ...reference.rings, 'object.ring.gz': { md5: 'z', version: 3 } })[0] ?? '', /^problem: its object\.ring\.gz differs .* at the same version 3/);
  assert.match(messages({ 'container.ring.gz': { md5: 'c', version: 1 } })[0] ?? '', /^problem: has no object\.ring\.gz/);
  assert.match(messages({ ...reference.rings, 'object.ring.gz': { md5: 'q', error: 'checksum mismatch' } })[0] ?? '', /^problem: cannot read its object\.ring\.gz: checksum mismatch/);
  assert.equal(messages({ ...reference.rings, 'object-1.ring.gz': { md5: 'p', version: 1 } }), ["warning: has object-1.ring.gz, which proxy (/etc/swiftlet) does not"]);
});

test('each finding names its node: down, wrong secret, misplaced objects, unmounted or missing devices', () => {
  const findings = nodeFindings(reference, [
    node('swift1', { up: false, error: 'ECONNREFUSED' }),
    node('swift2', { hashpath: { digest: 'bbbb', placement: { checked: 32, misplaced: 32, example: { device: 'sdb', partition: 7, hash: 'h1', name: '/AUTH_a/c/o', expected: 'h2' } } } }),
    node('swift3', { disks: [{ device: 'sdb', mounted: false }], ringDevices: ['sdb', 'sdc'] }),
  ]);
  const lines = findings.map((f) => `${f.node} ${f.severity}: ${f.message}`);
  assert.match(lines[0] ?? '', /^swift1 problem: DOWN: recon at 127\.0\.0\.2:6200 does not answer \(ECONNREFUSED\)$/);
  assert.match(lines[1] ?? '', /^swift2 problem: WRONG HASH-PATH SECRET: its secret's digest is bbbb, proxy \(\/etc\/swiftlet\)'s aaaa/);
  assert.match(lines[2] ?? '', /^swift2 problem: 32 object\(s\) do not hash to where they lie under its secret \(e\.g\. \/AUTH_a\/c\/o in sdb\/7\/h1, expected h2\)/);
  assert.match(lines[3] ?? '', /^swift3 problem: device sdb is NOT MOUNTED: its servers answer 507/);
  assert.match(lines[4] ?? '', /^swift3 problem: the rings place device sdc on it, but .* has no sdc/);
  assert.is(lines.length, 5);
});

test('with no secret here, the odd node out is the one with another secret', () => {
  const findings = nodeFindings({ source: 'here', rings: reference.rings }, [node('a'), node('b'), node('c', { hashpath: { digest: 'cccc' } })]);
  assert.equal(findings.map((f) => f.node), ['c']);
  assert.match(findings[0]?.message ?? '', /digest is cccc, the other nodes' aaaa/);
});

test('replication failures and a failing daemon are warnings, not problems', () => {
  const findings = nodeFindings(reference, [node('a', { daemons: [{ name: 'object-replicator', passes: 3, lastPass: { failures: 10 } }, { name: 'object-updater', passes: 0, lastPass: {}, lastError: 'boom' }] })]);
  assert.equal(findings.map((f) => [f.severity, f.message]), [['warning', "object-replicator's last pass had 10 failure(s)"], ['warning', "object-updater's latest pass failed: boom"]]);
});

test('the proxy: down is a problem; running an older ring than its file, or error-limiting nodes, a warning', () => {
  assert.equal(proxyFindings(reference, { name: 'proxy', ip: '127.0.0.1', port: 8080, up: false, error: 'ECONNREFUSED' }).map((f) => f.severity), ['problem']);
  const warnings = proxyFindings(reference, { name: 'proxy', ip: '127.0.0.1', port: 8080, up: true, loadedRings: { object: 2, container: 1 }, errorLimitedNodes: 1 });
  assert.equal(warnings.map((f) => f.message), ['runs object.ring.gz version 2 while its file is version 3 (it reloads within 15 s; a bad file is not loaded)', 'skips 1 storage device(s) for their errors (error-limited)']);
});

test.run();
