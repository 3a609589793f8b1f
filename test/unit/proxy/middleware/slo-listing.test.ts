import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listingToJson } from '../../../../common/listing-format.ts';
import { keepAliveBody, resultBody, resultFormat } from '../../../../proxy/middleware/result-body.ts';
import { rewriteJsonListing } from '../../../../proxy/middleware/slo-listing.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const rows = [
  { bytes: 35, hash: 'aaa; slo_etag=bbb', name: 'big', content_type: 'application/octet-stream', last_modified: '2024-01-02T03:04:05.000000' },
  { bytes: 5, hash: 'ccc', name: 'small', content_type: 'text/plain', last_modified: '2024-01-02T03:04:05.000000' },
  { subdir: 'dir/' },
];

test('JSON listings: slo_etag leaves the hash and becomes its own quoted field', () => {
  assert.is(
    rewriteJsonListing(listingToJson(rows)),
    '[{"bytes": 35, "hash": "aaa", "name": "big", "content_type": "application/octet-stream", "last_modified": "2024-01-02T03:04:05.000000", "slo_etag": "\\"bbb\\""}, ' +
      '{"bytes": 5, "hash": "ccc", "name": "small", "content_type": "text/plain", "last_modified": "2024-01-02T03:04:05.000000"}, {"subdir": "dir/"}]',
  );
  assert.is(rewriteJsonListing(listingToJson([{ ...rows[1], hash: 'x; s3_etag=y; slo_etag=z' }])).includes('"hash": "x; s3_etag=y"'), true);
  assert.is(rewriteJsonListing('not json'), 'not json');
});

test('result bodies in the three formats, as Swift renders them', () => {
  const fields = { 'Response Status': '400 Bad Request', 'Response Body': '', 'Number Deleted': 1, 'Number Not Found': 0 };
  const errors = [['/c/ü', 'Not an SLO manifest']] as const;
  assert.is(resultBody('application/json', fields, errors, 'delete'), '{"Response Status": "400 Bad Request", "Response Body": "", "Number Deleted": 1, "Number Not Found": 0, "Errors": [["/c/\\u00fc", "Not an SLO manifest"]]}');
  assert.is(resultBody('text/plain', fields, errors, 'delete'), 'Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/c/ü, Not an SLO manifest\n');
  assert.is(resultBody('text/xml', {}, [['/c/<o>', '404 Not Found']], 'upload'), '<upload>\n<errors>\n<object><name>/c/&lt;o&gt;</name><status>404 Not Found</status></object>\n</errors>\n</upload>\n');
  assert.is(resultBody(undefined, {}, [], 'upload'), 'Errors:\n');
});

test('the result format follows Accept; a bad or unsatisfiable Accept has none', () => {
  assert.is(resultFormat(undefined), 'text/plain');
  assert.is(resultFormat('application/json'), 'application/json');
  assert.is(resultFormat('text/html;q=1, application/xml;q=0.5'), 'application/xml');
  assert.is(resultFormat('image/png'), undefined);
  assert.is(resultFormat('bad header;;'), undefined);
});

test('keep-alive bodies: whitespace while the work runs, the result after a blank line', async () => {
  const clock = new ManualClock();
  let finish: (text: string) => void = () => {};
  const work = new Promise<string>((resolve) => (finish = resolve));
  const body = keepAliveBody(work, { intervalMs: 1000, sleep: (ms, signal) => clock.sleep(ms, signal), firstBeat: '<?xml?>' });
  const it = body[Symbol.asyncIterator]();
  const first = it.next();
  clock.advance(1000);
  assert.is(Buffer.from((await first).value as Uint8Array).toString(), '<?xml?>');
  const second = it.next();
  clock.advance(1000);
  assert.is(Buffer.from((await second).value as Uint8Array).toString(), ' ');
  const last = it.next();
  finish('done');
  assert.is(Buffer.from((await last).value as Uint8Array).toString(), '\r\n\r\ndone');
  assert.ok((await it.next()).done);
  // Quick work: no heartbeat, no separator.
  const quick = keepAliveBody(Promise.resolve('fast'), { intervalMs: 1000, sleep: (ms, signal) => clock.sleep(ms, signal) });
  const chunks: string[] = [];
  for await (const chunk of quick) chunks.push(Buffer.from(chunk).toString());
  assert.equal(chunks, ['fast']);
});

test.run();
