import { createHash } from 'node:crypto';
import { Router } from '@koa/router';

/**
 * The pages' only stylesheet and script, served from /assets/ (the CSP allows nothing inline).
 * Kept in code so the build output is the whole app. Colours keep a contrast ratio ≥ 4.5:1 (WCAG AA).
 */
const STYLE = `
:root{color-scheme:light;--fg:#1b1b1b;--muted:#4a4a4a;--bg:#fff;--accent:#0a4fb5;--panel:#f3f5f8;--bad:#a4000f}
*{box-sizing:border-box}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:46rem;margin:0 auto;padding:1rem}
header{border-bottom:1px solid #d0d5dd}
header a{color:var(--fg);text-decoration:none;font-weight:700}
h1{font-size:1.6rem;line-height:1.25}
h2{font-size:1.2rem;margin-top:2rem}
a{color:var(--accent)}
.button,button{display:inline-block;min-height:2.75rem;padding:.6rem 1.1rem;border:0;border-radius:.4rem;
  background:var(--accent);color:#fff;font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.button.secondary,button.secondary{background:#fff;color:var(--accent);border:2px solid var(--accent)}
.button:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.upstreams{list-style:none;padding:0;display:grid;gap:.75rem}
.upstreams .button{width:100%;text-align:center}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
pre,code.block{display:block;background:var(--panel);padding:.75rem;border-radius:.4rem;overflow-x:auto;
  white-space:pre;font-size:.9rem}
.wrap{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-all}
.muted{color:var(--muted)}
.notice{background:var(--panel);border-left:4px solid var(--accent);padding:.75rem}
.problem{border-left-color:var(--bad)}
.copy-status{margin-left:.5rem}
footer{color:var(--muted);font-size:.9rem}
`;

const COPY_SCRIPT = `
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var target = document.getElementById(button.getAttribute('data-copy'));
    var status = document.getElementById(button.getAttribute('data-copy') + '-status');
    if (!target) return;
    navigator.clipboard.writeText(target.textContent.trim()).then(function () {
      if (status) status.textContent = 'Copied.';
    }, function () {
      if (status) status.textContent = 'Copy failed: select the text and copy it.';
    });
  });
});
`;

const ASSETS: Record<string, { type: string; body: string }> = {
  'style.css': { type: 'text/css; charset=utf-8', body: STYLE },
  'copy.js': { type: 'text/javascript; charset=utf-8', body: COPY_SCRIPT },
};

/** Content hash in the asset URLs lets browsers cache them for a long time across upgrades. */
const VERSION = createHash('sha256')
  .update(STYLE + COPY_SCRIPT)
  .digest('base64url')
  .slice(0, 10);

export const STYLESHEET_URL = `/assets/style.css?v=${VERSION}`;
export const COPY_SCRIPT_URL = `/assets/copy.js?v=${VERSION}`;

/** `GET /assets/:name`. */
export function createAssetRouter(): Router {
  const router = new Router();
  router.get('/assets/:name', (ctx) => {
    const name = ctx.params['name'] ?? '';
    // Own keys only: `constructor`, `__proto__`… must not reach Object.prototype.
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = asset.body;
  });
  return router;
}
