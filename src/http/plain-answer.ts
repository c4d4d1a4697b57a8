import type { ServerResponse } from 'node:http';

/**
 * An HTTP answer as plain data, independent of the server that sends it: the ops endpoints are served
 * by bare `node:http` listeners (the verifier's, `ops.listen`) and by the issuer's koa app alike.
 */
export interface PlainAnswer {
  status: number;
  /** Lowercase header names; `content-length` is added when sending. */
  headers: Record<string, string>;
  body: string;
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export function textAnswer(status: number, body: string, headers: Record<string, string> = {}): PlainAnswer {
  return { status, headers: { 'content-type': TEXT, ...headers }, body };
}

export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): PlainAnswer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

/** What a path no route serves gets (koa's default words, which clients have seen so far). */
export const NOT_FOUND: PlainAnswer = textAnswer(404, 'Not Found');

/** Sends `answer` on a node:http response. Node itself drops the body of an answer to HEAD. */
export function sendAnswer(res: ServerResponse, answer: PlainAnswer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/**
 * The form of a request path that routes are looked up by: like the koa router these routes lived on
 * before, matching ignores case and one trailing slash (`/HEALTHZ`, `/healthz/`), so a probe written
 * either way keeps working.
 */
export function routePath(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}
