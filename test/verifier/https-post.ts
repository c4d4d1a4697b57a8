import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { IssuedCert } from '../support/certs.js';

/** One answer as it came off the wire. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface PostOptions {
  /** CA the server certificate must chain to (https only). */
  ca?: string;
  /** Client certificate to present; none when undefined. */
  client?: IssuedCert;
  method?: string;
  headers?: Record<string, string>;
  /** Send the body in several chunks without a Content-Length (chunked transfer encoding). */
  chunked?: boolean;
}

/**
 * Sends `body` to `url` on a fresh connection (no agent: each case's client certificate counts) and
 * resolves with the answer; rejects on a transport failure (refused handshake, reset).
 */
export function postRaw(url: string, body: string, options: PostOptions = {}): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? 'POST',
        agent: false,
        ca: options.ca,
        cert: options.client?.cert,
        key: options.client?.key,
        headers: {
          'content-type': 'application/json',
          ...(options.chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    if (options.chunked) {
      const size = Math.ceil(body.length / 4);
      for (let i = 0; i < body.length; i += size) req.write(body.slice(i, i + size));
      req.end();
    } else {
      req.end(body);
    }
  });
}
