import { NBD_EINVAL, NBD_EIO, NBD_ENOTSUP, NbdError } from './nbd-error.ts';

/**
 * The fixed newstyle handshake of NBD (doc/proto.md "Handshake"), as a client: flags, then
 * NBD_OPT_STRUCTURED_REPLY, NBD_OPT_SET_META_CONTEXT and NBD_OPT_GO, one option at a time.
 */

const NBDMAGIC = Buffer.from('NBDMAGIC');
const IHAVEOPT = Buffer.from('IHAVEOPT');
const OPTION_REPLY_MAGIC_HIGH = 0x0003e889;
const OPTION_REPLY_MAGIC_LOW = 0x045565a9;

const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;

const OPT_GO = 7;
const OPT_STRUCTURED_REPLY = 8;
const OPT_SET_META_CONTEXT = 10;

const REP_ACK = 1;
const REP_INFO = 3;
const REP_META_CONTEXT = 4;
const REP_ERROR_BIT = 2 ** 31;
const REP_ERR_UNSUP = REP_ERROR_BIT + 1;

const INFO_EXPORT = 0;
const INFO_BLOCK_SIZE = 3;

const MAX_OPTION_REPLY = 64 * 1024;

/** The spec's limit on a request's payload when the server does not state one. */
const DEFAULT_MAX_PAYLOAD = 32 * 1024 * 1024;

const REP_ERROR_NAMES: ReadonlyMap<number, string> = new Map([
  [REP_ERROR_BIT + 1, 'NBD_REP_ERR_UNSUP'],
  [REP_ERROR_BIT + 2, 'NBD_REP_ERR_POLICY'],
  [REP_ERROR_BIT + 3, 'NBD_REP_ERR_INVALID'],
  [REP_ERROR_BIT + 4, 'NBD_REP_ERR_PLATFORM'],
  [REP_ERROR_BIT + 5, 'NBD_REP_ERR_TLS_REQD'],
  [REP_ERROR_BIT + 6, 'NBD_REP_ERR_UNKNOWN'],
  [REP_ERROR_BIT + 7, 'NBD_REP_ERR_SHUTDOWN'],
  [REP_ERROR_BIT + 8, 'NBD_REP_ERR_BLOCK_SIZE_REQD'],
  [REP_ERROR_BIT + 9, 'NBD_REP_ERR_TOO_BIG'],
]);

export interface Negotiated {
  size: number;
  transmissionFlags: number;
  structured: boolean;
  contexts: ReadonlyMap<string, number>;
  /** The largest payload a request may carry or ask for. */
  maxPayload: number;
}

export interface ByteReader {
  read(n: number): Promise<Buffer>;
}

interface OptionReply {
  type: number;
  data: Buffer;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function string32(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

/** Runs the handshake on a fresh connection. @throws {NbdError} with the server's words */
export async function negotiate(reader: ByteReader, write: (bytes: Uint8Array) => void, options: { exportName: string; metaContexts: readonly string[]; structuredReplies: boolean }): Promise<Negotiated> {
  const greeting = await reader.read(18);
  if (!greeting.subarray(0, 8).equals(NBDMAGIC) || !greeting.subarray(8, 16).equals(IHAVEOPT)) throw new NbdError(NBD_EIO, 'not a newstyle NBD server');
  const serverFlags = greeting.readUInt16BE(16);
  if ((serverFlags & FLAG_FIXED_NEWSTYLE) === 0) throw new NbdError(NBD_ENOTSUP, 'the server lacks fixed newstyle negotiation');
  write(u32(FLAG_FIXED_NEWSTYLE | (serverFlags & FLAG_NO_ZEROES)));

  const option = async (opt: number, data: Buffer, onReply: (reply: OptionReply) => void): Promise<void> => {
    const head = Buffer.allocUnsafe(16);
    IHAVEOPT.copy(head, 0);
    head.writeUInt32BE(opt, 8);
    head.writeUInt32BE(data.length, 12);
    write(Buffer.concat([head, data]));
    for (;;) {
      const r = await reader.read(20);
      if (r.readUInt32BE(0) !== OPTION_REPLY_MAGIC_HIGH || r.readUInt32BE(4) !== OPTION_REPLY_MAGIC_LOW || r.readUInt32BE(8) !== opt) throw new NbdError(NBD_EIO, `bad reply to option ${opt}`);
      const type = r.readUInt32BE(12);
      const length = r.readUInt32BE(16);
      // Option replies are strings and a few numbers (the spec caps strings at 4 KiB).
      if (length > MAX_OPTION_REPLY) throw new NbdError(NBD_EIO, `a ${length}-byte reply to option ${opt}`);
      const body = length > 0 ? await reader.read(length) : Buffer.alloc(0);
      onReply({ type, data: body });
      if (type === REP_ACK || type >= REP_ERROR_BIT) return;
    }
  };
  const refusal = (what: string, reply: OptionReply): NbdError => {
    const name = REP_ERROR_NAMES.get(reply.type) ?? `reply ${reply.type}`;
    const message = reply.data.toString('utf8');
    return new NbdError(reply.type === REP_ERR_UNSUP ? NBD_ENOTSUP : NBD_EINVAL, `${what}: ${name}${message ? `: ${message}` : ''}`);
  };

  let structured = false;
  if (options.structuredReplies) {
    await option(OPT_STRUCTURED_REPLY, Buffer.alloc(0), (reply) => {
      if (reply.type === REP_ACK) structured = true;
    });
  }

  const contexts = new Map<string, number>();
  if (options.metaContexts.length > 0) {
    if (!structured) throw new NbdError(NBD_ENOTSUP, 'meta contexts need structured replies, which the server refused');
    const data = Buffer.concat([string32(options.exportName), u32(options.metaContexts.length), ...options.metaContexts.map(string32)]);
    let refused: NbdError | undefined;
    await option(OPT_SET_META_CONTEXT, data, (reply) => {
      if (reply.type === REP_META_CONTEXT && reply.data.length >= 4) contexts.set(reply.data.subarray(4).toString('utf8'), reply.data.readUInt32BE(0));
      else if (reply.type >= REP_ERROR_BIT) refused = refusal('meta contexts refused', reply);
    });
    if (refused !== undefined) throw refused;
  }

  // NBD_OPT_GO: the export name, and a request for NBD_INFO_BLOCK_SIZE (the export's info comes anyway).
  const go = Buffer.concat([string32(options.exportName), Buffer.from([0, 1, 0, INFO_BLOCK_SIZE])]);
  let size: number | undefined;
  let transmissionFlags = 0;
  let maxPayload = DEFAULT_MAX_PAYLOAD;
  let refused: NbdError | undefined;
  await option(OPT_GO, go, (reply) => {
    if (reply.type === REP_INFO && reply.data.length >= 2) {
      const info = reply.data.readUInt16BE(0);
      if (info === INFO_EXPORT && reply.data.length >= 12) {
        size = reply.data.readUInt32BE(2) * 2 ** 32 + reply.data.readUInt32BE(6);
        transmissionFlags = reply.data.readUInt16BE(10);
      } else if (info === INFO_BLOCK_SIZE && reply.data.length >= 14) {
        maxPayload = reply.data.readUInt32BE(10) || DEFAULT_MAX_PAYLOAD;
      }
    } else if (reply.type >= REP_ERROR_BIT) {
      refused = refusal(`export ${JSON.stringify(options.exportName)} refused`, reply);
    }
  });
  if (refused !== undefined) throw refused;
  if (size === undefined) throw new NbdError(NBD_EIO, 'the server did not send the export size');
  return { size, transmissionFlags, structured, contexts, maxPayload };
}
