import { createRequire } from 'node:module';
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

/**
 * Just enough SPDY/3.1 (the framing `kubectl port-forward` speaks, tunnelled in WebSocket or after an
 * `Upgrade: SPDY/3.1`) for a test upstream: every SYN_STREAM gets a SYN_REPLY, PINGs are answered,
 * DATA frames go to the stream's handler. Header blocks are zlib streams over the SPDY/3 dictionary,
 * one compression context per direction for the whole connection, as the protocol requires.
 * @see https://www.chromium.org/spdy/spdy-protocol/spdy-protocol-draft3-1/
 */

const require = createRequire(import.meta.url);
// The SPDY/3 header dictionary is a fixed byte string from the protocol draft; the package that ships it is a dev dependency.
const DICTIONARY = (
  require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<number, Buffer>
)[3] as Buffer;

const SYN_STREAM = 1;
const SYN_REPLY = 2;
const PING = 6;
const FLAG_FIN = 1;

export interface SpdyStream {
  id: number;
  headers: Record<string, string>;
  /** Set by the stream's owner: what arrives on the stream. */
  onData?: (data: Buffer) => void;
  write(data: Buffer, fin?: boolean): void;
}

/** Runs `input` through a persistent zlib context and returns what one sync flush yields. */
function through(stream: Inflate | Deflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const collect = (chunk: Buffer) => out.push(chunk);
    stream.on('data', collect);
    stream.write(input);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('data', collect);
      resolve(Buffer.concat(out));
    });
  });
}

function decodeHeaders(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 4;
  const field = () => {
    const length = block.readUInt32BE(at);
    const text = block.toString('latin1', at + 4, at + 4 + length);
    at += 4 + length;
    return text;
  };
  for (let i = block.readUInt32BE(0); i > 0; i--) {
    const name = field();
    headers[name] = field();
  }
  return headers;
}

function encodeHeaders(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]?.writeUInt32BE(Object.keys(headers).length);
  for (const text of Object.entries(headers).flat()) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(Buffer.byteLength(text));
    parts.push(length, Buffer.from(text, 'latin1'));
  }
  return Buffer.concat(parts);
}

function frameHeader(first: number, flags: number, length: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(first >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | length) >>> 0, 4);
  return head;
}

function controlFrame(type: number, data: Buffer): Buffer {
  return Buffer.concat([frameHeader((0x8003 << 16) | type, 0, data.length), data]);
}

/**
 * Serves SPDY/3.1 on a byte channel: `feed` takes what the client sent, `send` carries our frames back.
 * `onStream` sees each stream the client opens, after its SYN_REPLY went out.
 */
export function spdyServer(send: (bytes: Buffer) => void, onStream: (stream: SpdyStream) => void) {
  const inflate = createInflate({ dictionary: DICTIONARY });
  const deflate = createDeflate({ dictionary: DICTIONARY });
  const streams = new Map<number, SpdyStream>();
  let pending = Buffer.alloc(0);
  let queue = Promise.resolve();

  async function handle(frame: Buffer): Promise<void> {
    const first = frame.readUInt32BE(0);
    const body = frame.subarray(8);
    if ((first & 0x80000000) === 0) {
      if (body.length > 0) streams.get(first & 0x7fffffff)?.onData?.(body);
      return;
    }
    const type = first & 0xffff;
    if (type === PING) send(controlFrame(PING, body));
    if (type !== SYN_STREAM) return; // SETTINGS, WINDOW_UPDATE, RST_STREAM, GOAWAY: nothing to do here
    const id = body.readUInt32BE(0) & 0x7fffffff;
    const headers = decodeHeaders(await through(inflate, body.subarray(10)));
    const reply = Buffer.concat([Buffer.alloc(4), await through(deflate, encodeHeaders({}))]);
    reply.writeUInt32BE(id, 0);
    send(controlFrame(SYN_REPLY, reply));
    const stream: SpdyStream = {
      id,
      headers,
      write: (data, fin = false) =>
        send(Buffer.concat([frameHeader(id, fin ? FLAG_FIN : 0, data.length), data])),
    };
    streams.set(id, stream);
    onStream(stream);
  }

  return {
    feed(chunk: Buffer): void {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8) {
        const length = (pending.readUInt32BE(4) & 0xffffff) + 8;
        if (pending.length < length) break;
        const frame = pending.subarray(0, length);
        pending = pending.subarray(length);
        queue = queue.then(() => handle(frame));
      }
    },
    close(): void {
      inflate.close();
      deflate.close();
    },
  };
}
