/**
 * The issuer: browser sign-in at upstream OpenID Connect providers, token minting, and the CLI's
 * OAuth 2.0 endpoints, built by createIssuer as one router.
 */
export { createIssuer, type Issuer } from './create-issuer.js';
export type { IssuerContext, IssuerDeps } from './issuer-context.js';
export { LOGIN_BINDING_COOKIE } from './login/login-routes.js';
export type { CompletedLogin, LoginPurpose } from './login/types.js';
export type { LoginState } from './models/login-state.js';
export { type ProblemKind, problemPages, renderProblemPage } from './pages/problem-page.js';
export { type RunningIssuer, startIssuer } from './start-issuer.js';
export type { UpstreamRefreshResult } from './upstream/refresh-upstream.js';
export { MIN_KEY_BYTES, SecretBox } from './upstream/secret-box.js';
export { translateUpstreamError, type UpstreamStep } from './upstream/upstream-errors.js';
export type { UpstreamRegistry } from './upstream/upstream-registry.js';
export { CookieJar } from './web/cookie-jar.js';
export { CsrfGuard } from './web/csrf.js';
export { readFormBody } from './web/form-body.js';
export { escapeHtml, html, SafeHtml } from './web/html.js';
export { type Page, renderPage } from './web/layout.js';
export { RateLimiter } from './web/rate-limiter.js';
export type { WebKit } from './web/web-kit.js';
