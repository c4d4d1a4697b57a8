import { request as httpsRequest } from 'node:https';
import type { CustomFetch } from 'openid-client';

/**
 * A fetch for openid-client's `customFetch` that trusts a private CA bundle (the CLI's --ca-file, an upstream's caFile), for servers
 * whose certificate is not signed by a public root. Node's built-in fetch has no per-call CA option,
 * so this speaks node:https and hands back a standard Response.
 */
export function createCaFetch(caPem: string): CustomFetch {
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== 'https:') {
        reject(new Error(`a private CA bundle only applies to https:// URLs (got ${target.protocol})`));
        return;
      }
      const req = httpsRequest(
        target,
        { method: options.method, headers: options.headers, ca: caPem, signal: options.signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (Array.isArray(value)) for (const v of value) headers.append(name, v);
              else if (value !== undefined) headers.set(name, value);
            }
            const status = res.statusCode ?? 500;
            const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status, headers }));
          });
        },
      );
      req.on('error', reject);
      const body = options.body;
      if (body === undefined || body === null) req.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else if (body instanceof URLSearchParams) req.end(body.toString());
      else req.end(Buffer.from(body as ArrayBuffer));
    });
}
