import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Device, formatDevice, matchDevices, parseDeviceSyntax } from '../../../ring/device.ts';

test('parses swift-ring-builder device syntax', () => {
  assert.equal(parseDeviceSyntax('r1z1-127.0.0.1:6210/d1', 100), { region: 1, zone: 1, ip: '127.0.0.1', port: 6210, device: 'd1', weight: 100, meta: '' });
  const full = parseDeviceSyntax('r2z3-10.0.0.2:6210R10.1.0.2:6310/sdb1_ssd fast', 1.5);
  assert.equal(full, { region: 2, zone: 3, ip: '10.0.0.2', port: 6210, device: 'sdb1', weight: 1.5, meta: 'ssd fast', replication_ip: '10.1.0.2', replication_port: 6310 });
  assert.is(parseDeviceSyntax('r1z1-[::1]:6210/d1', 1).ip, '::1');
});

test('bad device syntax and weights are refused with the expected form', () => {
  for (const bad of ['127.0.0.1:6210/d1', 'r1z1-127.0.0.1/d1', 'r1z1-127.0.0.1:6210', 'r1z1-127.0.0.1:99999/d1', 'rxz1-1.2.3.4:1/d']) {
    assert.throws(() => parseDeviceSyntax(bad, 1), /expected r<region>z<zone>|invalid port/, bad);
  }
  assert.throws(() => parseDeviceSyntax('r1z1-127.0.0.1:6210/d1', Number.NaN), /invalid weight/);
  assert.throws(() => parseDeviceSyntax('r1z1-127.0.0.1:6210/d1', -1), /invalid weight/);
});

const devs: Device[] = [0, 1, 2, 3].map((i) => ({
  id: i, region: 1, zone: (i % 2) + 1, ip: `10.0.0.${i}`, port: 6210, replication_ip: `10.0.0.${i}`, replication_port: 6210, device: `sd${i}`, weight: 1, meta: i === 3 ? 'old' : '',
}));

test('search values find devices like swift-ring-builder', () => {
  assert.equal(matchDevices(devs, 'd2').map((d) => d.id), [2]);
  assert.equal(matchDevices(devs, 'r1z2').map((d) => d.id), [1, 3]);
  assert.equal(matchDevices(devs, 'r1z2-10.0.0.1:6210/sd1').map((d) => d.id), [1]);
  assert.equal(matchDevices(devs, '10.0.0.3').map((d) => d.id), [3]);
  assert.equal(matchDevices(devs, '/sd0').map((d) => d.id), [0]);
  assert.equal(matchDevices(devs, '_old').map((d) => d.id), [3]);
  assert.equal(matchDevices(devs, 'd9'), []);
});

test('formatDevice writes what parseDeviceSyntax reads', () => {
  for (const d of devs) {
    const parsed = parseDeviceSyntax(formatDevice(d), d.weight);
    assert.is(parsed.ip, d.ip);
    assert.is(parsed.device, d.device);
    assert.is(parsed.meta, d.meta);
  }
});

test.run();
