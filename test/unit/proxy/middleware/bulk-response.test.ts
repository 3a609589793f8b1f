import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type BulkResult, renderBulkResult } from '../../../../proxy/middleware/bulk-response.ts';

const RESULT: BulkResult = {
  fields: [['Response Status', '400 Bad Request'], ['Response Body', ''], ['Number Deleted', 2], ['Number Not Found', 1]],
  errors: [['/c/%C3%BC<&>', '409 Conflict'], ['/d', '401 Unauthorized']],
};

// Expected strings are Swift's get_response_body output (json.dumps, sorted plain lines, sorted XML tags).
test('JSON: fields in order, then Errors; non-ASCII escaped as Python does', () => {
  assert.is(renderBulkResult('application/json', RESULT, 'delete'), '{"Response Status": "400 Bad Request", "Response Body": "", "Number Deleted": 2, "Number Not Found": 1, "Errors": [["/c/%C3%BC<&>", "409 Conflict"], ["/d", "401 Unauthorized"]]}');
  assert.is(renderBulkResult('application/json', { fields: [['Response Body', 'ü\u007f"\n']], errors: [] }, 'delete'), '{"Response Body": "\\u00fc\\u007f\\"\\n", "Errors": []}');
});

test('XML: sorted fields as lower-case tags, escaped names, no declaration', () => {
  const xml = '<delete>\n<number_deleted>2</number_deleted>\n<number_not_found>1</number_not_found>\n<response_body></response_body>\n<response_status>400 Bad Request</response_status>\n<errors>\n<object><name>/c/%C3%BC&lt;&amp;&gt;</name><status>409 Conflict</status></object>\n<object><name>/d</name><status>401 Unauthorized</status></object>\n</errors>\n</delete>\n';
  assert.is(renderBulkResult('application/xml', RESULT, 'delete'), xml);
  assert.is(renderBulkResult('text/xml', RESULT, 'delete'), xml);
  assert.is(renderBulkResult('text/xml', { fields: [['Number Files Created', 0]], errors: [] }, 'extract'), '<extract>\n<number_files_created>0</number_files_created>\n<errors>\n</errors>\n</extract>\n');
});

test('plain text (also when no format was acceptable)', () => {
  const plain = 'Number Deleted: 2\nNumber Not Found: 1\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/c/%C3%BC<&>, 409 Conflict\n/d, 401 Unauthorized\n';
  assert.is(renderBulkResult('text/plain', RESULT, 'delete'), plain);
  assert.is(renderBulkResult(undefined, RESULT, 'delete'), plain);
});

test.run();
