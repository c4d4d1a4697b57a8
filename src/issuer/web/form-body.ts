import type { IncomingMessage } from 'node:http';
import { BridgeError } from '../../core/errors.js';

/** Forms on these pages carry a handful of short fields; anything bigger is not one of ours. */
const DEFAULT_LIMIT_BYTES = 16 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` request body (what an HTML form posts). Refuses other
 * content types and bodies over `limitBytes` with ERR_INPUT_INVALID.
 */
export async function readFormBody(
  req: IncomingMessage,
  limitBytes = DEFAULT_LIMIT_BYTES,
): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new BridgeError('ERR_INPUT_INVALID', 'expected a form submission');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new BridgeError('ERR_INPUT_INVALID', 'form submission too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
