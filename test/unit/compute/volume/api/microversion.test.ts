import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CinderError, faultBody } from '../../../../../compute/volume/api/cinder-error.ts';
import { atLeast, requestedVersion, versionHeaders } from '../../../../../compute/volume/api/microversion.ts';

function refusal(headers: Record<string, string>): { status: number; message: string } {
  try {
    requestedVersion(headers);
  } catch (err) {
    if (err instanceof CinderError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('accepted');
}

test('no header is 3.0; "volume 3.x" and "latest" pick their version; other services in the header are skipped', () => {
  assert.equal(requestedVersion({}), { major: 3, minor: 0 });
  assert.equal(requestedVersion({ 'openstack-api-version': 'volume 3.27' }), { major: 3, minor: 27 });
  assert.equal(requestedVersion({ 'openstack-api-version': 'compute 2.1, volume 3.60' }), { major: 3, minor: 60 });
  assert.equal(requestedVersion({ 'openstack-api-version': 'volume latest' }), { major: 3, minor: 71 });
  assert.ok(atLeast({ major: 3, minor: 47 }, '3.47'));
  assert.not.ok(atLeast({ major: 3, minor: 46 }, '3.47'));
});

test("Cinder's refusals: 400 for a malformed version or no volume entry, 406 outside 3.0..3.71", () => {
  assert.equal(refusal({ 'openstack-api-version': 'volume 3.07' }), { status: 400, message: 'API Version String 3.07 is of invalid format. Must be of format MajorNum.MinorNum.' });
  assert.equal(refusal({ 'openstack-api-version': 'volume three' }).status, 400);
  assert.equal(refusal({ 'openstack-api-version': 'compute 2.1' }), { status: 400, message: 'API version None is not supported on this method.' });
  assert.equal(refusal({ 'openstack-api-version': 'volume 3.72' }), { status: 406, message: 'Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71.' });
  assert.equal(refusal({ 'openstack-api-version': 'volume 2.0' }).status, 406);
});

test("answers name their version; faults have Cinder's names by status", () => {
  assert.equal(versionHeaders({ major: 3, minor: 5 }), { 'OpenStack-API-Version': 'volume 3.5', Vary: 'OpenStack-API-Version' });
  assert.equal(faultBody(400, 'x'), { badRequest: { code: 400, message: 'x' } });
  assert.equal(faultBody(404, 'Volume v could not be found.'), { itemNotFound: { code: 404, message: 'Volume v could not be found.' } });
  assert.equal(faultBody(406, 'y'), { computeFault: { code: 406, message: 'y' } });
  assert.equal(faultBody(413, 'q'), { overLimit: { code: 413, message: 'q' } });
});

test.run();
