import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

export interface ProxyAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request to the proxy on a fresh connection; resolves with the whole answer. */
export function callProxy(
  url: string,
  ca: string,
  options: {
    method?: string;
    token?: string;
    headers?: Record<string, string | string[]>;
    body?: string;
  } = {},
): Promise<ProxyAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? 'GET',
        agent: false,
        ca,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
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
    req.end(options.body);
  });
}
