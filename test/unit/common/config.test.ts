import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bool, defaultConfig, int, keysLike, list, num, oneOf, parseIni, str, validateConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';

const schemas = {
  'object-server': {
    bind_ip: str('127.0.0.1'),
    bind_port: int(6200, { min: 1, max: 65535 }),
    node_timeout: num(10, { min: 0 }),
    mount_check: bool(false),
    log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const),
    devices: list(['sda']),
  },
} as const;

test('defaults are declared once and used where the file is silent', () => {
  const cfg = defaultConfig(schemas);
  assert.is(cfg['object-server'].bind_port, 6200);
  assert.equal(cfg['object-server'].devices, ['sda']);
  assert.ok(Object.isFrozen(cfg['object-server']));
});

test('INI values are parsed to their types; [DEFAULT] applies to declared keys', () => {
  const raw = parseIni(`
# comment
[DEFAULT]
mount_check = yes
[object-server]
bind_port = 6210
node_timeout = 2.5
log_level = debug
devices = sdb1, sdb2 sdb3
; another comment
[some-other-role]
anything = goes
`);
  const cfg = validateConfig(raw, schemas)['object-server'];
  assert.is(cfg.bind_port, 6210);
  assert.is(cfg.node_timeout, 2.5);
  assert.is(cfg.mount_check, true);
  assert.is(cfg.log_level, 'debug');
  assert.equal(cfg.devices, ['sdb1', 'sdb2', 'sdb3']);
});

test('a bad value names the key and the value', () => {
  const cases: [string, RegExp][] = [
    ['bind_port = eighty', /config object-server\.bind_port = "eighty": expected an integer/],
    ['bind_port = 70000', /object-server\.bind_port = "70000": must be at most 65535/],
    ['node_timeout = -1', /object-server\.node_timeout = "-1": must be at least 0/],
    ['mount_check = maybe', /object-server\.mount_check = "maybe": expected true or false/],
    ['log_level = loud', /object-server\.log_level = "loud": expected one of debug, info, warn, error/],
    ['bind_prot = 1', /object-server\.bind_prot = "1": unknown key/],
  ];
  for (const [line, pattern] of cases) {
    assert.throws(
      () => validateConfig(parseIni(`[object-server]\n${line}\n`), schemas),
      (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG_INVALID' && pattern.test(err.message),
      line,
    );
  }
});

test('malformed INI is refused with the line number', () => {
  assert.throws(() => parseIni('[s]\nno equals sign here\n', 'node.conf'), /node\.conf:2/);
  assert.throws(() => parseIni('key = before any section\n', 'node.conf'), /after a \[section\]/);
});

test('JSON values work the same way', () => {
  const cfg = validateConfig({ 'object-server': { bind_port: 6300, mount_check: true, devices: ['a', 'b'] } }, schemas)['object-server'];
  assert.is(cfg.bind_port, 6300);
  assert.equal(cfg.devices, ['a', 'b']);
  assert.throws(() => validateConfig({ 'object-server': { bind_port: 1.5 } }, schemas), /expected an integer/);
});

test('pattern keys: a * at either end matches a family of keys; anything else is still unknown', () => {
  const patterned = { tempauth: { require_group: str(''), 'user_*': keysLike(str('', { nonEmpty: true })), '*_require_group': keysLike(str('')) } } as const;
  const cfg = validateConfig(parseIni('[tempauth]\nuser_test_tester = testing .admin\nSERVICE_require_group = service\nrequire_group = all\n'), patterned).tempauth;
  assert.equal(cfg['user_*'], { user_test_tester: 'testing .admin' });
  assert.equal(cfg['*_require_group'], { SERVICE_require_group: 'service' });
  assert.is(cfg.require_group, 'all', 'the bare key is its own field, not a match of *_require_group');
  assert.throws(() => validateConfig({ tempauth: { user_x_y: '' } }, patterned), /tempauth\.user_x_y.*must not be empty/);
  assert.throws(() => validateConfig({ tempauth: { users: 'x' } }, patterned), /tempauth\.users.*unknown key/);
});

test('a misspelled section is refused with the section it was meant to be (an [object-sever] was ignored and the node ran on defaults)', () => {
  const raw = parseIni('[object-sever]\nbind_port = 6210\n[proxy-server]\nworkers = 2\n');
  assert.throws(
    () => validateConfig(raw, schemas, { otherSections: ['proxy-server'] }),
    (err: unknown) => err instanceof ConfigError && /config \[object-sever\]: unknown section; did you mean \[object-server\]\?/.test(err.message),
  );
  // Another role's section is fine; so is a pattern of them; a far-off name lists the known ones.
  assert.is(validateConfig(parseIni('[object-server]\n[proxy-server]\nworkers = 2\n[storage-policy:1]\nname = gold\n'), schemas, { otherSections: ['proxy-server', 'storage-policy:*'] })['object-server'].bind_port, 6200);
  assert.throws(() => validateConfig(parseIni('[zzz]\n'), schemas, { otherSections: [] }), /unknown section; known sections: \[object-server\]/);
});

test('a comment after a value is named when it spoils the value (workers = 0 ; one per core stopped the proxy with "expected an integer")', () => {
  assert.throws(
    () => validateConfig(parseIni('[object-server]\nbind_port = 6210   ; the object port\n'), schemas),
    /object-server\.bind_port = "6210 {3}; the object port": expected an integer \(comments go on their own line/,
  );
  // Swift (Python 3's ConfigParser) keeps such text in the value; a string value keeps it too.
  assert.is(validateConfig(parseIni('[object-server]\nbind_ip = 10.0.0.1 # here\n'), schemas)['object-server'].bind_ip, '10.0.0.1 # here');
});

test('an indented line continues the value above until a blank line (Swift\'s cross_domain_policy)', () => {
  const raw = parseIni(
    '[crossdomain]\n' +
      'cross_domain_policy = <allow-access-from domain="*.example.com" />\n' +
      '    <allow-access-from domain="www.example.com" secure="false" />\n' +
      '\n' +
      '[other]\n' +
      'key = value\n',
  );
  assert.equal(raw['crossdomain'], { cross_domain_policy: '<allow-access-from domain="*.example.com" />\n<allow-access-from domain="www.example.com" secure="false" />' });
  assert.equal(raw['other'], { key: 'value' });
});

test('a schema named <prefix>* validates every section of that family, keyed by the rest of its name', () => {
  const family = { 'storage-policy:*': { name: str(''), deprecated: bool(false) } } as const;
  const cfg = validateConfig(parseIni('[storage-policy:0]\nname = gold\n[storage-policy:1]\nname = silver\ndeprecated = yes\n[storage]\nx = 1\n'), family);
  assert.equal(Object.keys(cfg['storage-policy:*']).sort(), ['0', '1']);
  assert.is(cfg['storage-policy:*']['1']?.name, 'silver');
  assert.is(cfg['storage-policy:*']['1']?.deprecated, true);
  assert.is(cfg['storage-policy:*']['0']?.deprecated, false);
  assert.equal(defaultConfig(family)['storage-policy:*'], {});
  assert.throws(() => validateConfig(parseIni('[storage-policy:1]\nnmae = x\n'), family), /storage-policy:1\.nmae.*unknown key/);
});

test.run();
