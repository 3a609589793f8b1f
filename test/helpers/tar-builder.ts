/**
 * Builds tar archives in memory for tests of extract-archive: ustar headers, pax extended
 * headers (long names, xattrs), any type flag.
 */

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}

function header(name: Buffer, size: number, type: string, prefix = Buffer.alloc(0)): Buffer {
  const block = Buffer.alloc(512);
  name.copy(block, 0, 0, Math.min(100, name.length));
  block.write(octal(0o644, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(1_700_000_000, 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\u0000', 257, 'latin1');
  block.write('00', 263, 'latin1');
  prefix.copy(block, 345, 0, Math.min(155, prefix.length));
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

/** One member: header (with a pax header first when `pax` is given) and padded data. */
export function tarMember(name: string | Buffer, data: string | Buffer = '', options: { type?: string; pax?: Record<string, string>; prefix?: string } = {}): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const nameBytes = typeof name === 'string' ? Buffer.from(name) : name;
  const parts: Buffer[] = [];
  if (options.pax) {
    let records = '';
    for (const [k, v] of Object.entries(options.pax)) {
      const body = ` ${k}=${v}\n`;
      let length = Buffer.byteLength(body) + 1;
      while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
      records += `${length}${body}`;
    }
    const paxData = Buffer.from(records);
    parts.push(header(Buffer.from('PaxHeader/x'), paxData.length, 'x'), padded(paxData));
  }
  const type = options.type ?? '0';
  parts.push(header(nameBytes, type === '0' ? bytes.length : 0, type, options.prefix ? Buffer.from(options.prefix) : undefined));
  if (type === '0') parts.push(padded(bytes));
  return Buffer.concat(parts);
}

/** The members and the two zero blocks that end an archive. */
export function tarArchive(...members: Buffer[]): Buffer {
  return Buffer.concat([...members, Buffer.alloc(1024)]);
}
