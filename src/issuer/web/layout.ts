import type Koa from 'koa';
import { ERROR_STATUS, type ProblemKind, retryAfter } from '../error-table.js';
import { COPY_SCRIPT_URL, STYLESHEET_URL } from './assets.js';
import { html, type SafeHtml } from './html.js';

export interface Page {
  /** Also the page's `<h1>`. */
  title: string;
  main: SafeHtml;
  /** What went wrong, when something did: the status (and Retry-After) come from the error table. */
  problem?: ProblemKind;
  /** Loads the copy-button script. */
  script?: boolean;
}

/**
 * Renders a complete, accessible page: `lang`, viewport for phones, landmarks (header, main, footer),
 * one `<h1>`. Security headers come from the securityHeaders middleware.
 */
export function renderPage(ctx: Koa.Context, page: Page): void {
  const status = page.problem ? ERROR_STATUS[page.problem] : 200;
  const seconds = retryAfter(status);
  if (seconds !== undefined) ctx.set('Retry-After', seconds);
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · kube-oidc-bridge</title>
<link rel="stylesheet" href="${STYLESHEET_URL}">
<link rel="icon" href="data:,">
</head>
<body>
<header><a href="/">kube-oidc-bridge</a></header>
<main id="main">
<h1>${page.title}</h1>
${page.main}
</main>
<footer><p>Kubernetes sign-in</p></footer>
${page.script ? html`<script src="${COPY_SCRIPT_URL}" defer></script>` : ''}
</body>
</html>
`.value;
}
