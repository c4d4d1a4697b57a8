export { authenticateRequest, bearerToken, type ProxyAuthentication } from './authenticate.js';
export { encodeExtraKey, impersonationHeaders } from './impersonation-headers.js';
export type { ProxyResult } from './proxy-instruments.js';
export { type ProxyDeps, startProxy } from './proxy-server.js';
export { isImpersonationHeader, scanRequestHeaders } from './request-headers.js';
export {
  resolveUpstream,
  SERVICE_ACCOUNT_DIR,
  type UpstreamTarget,
  upstreamFromKubeconfig,
  upstreamInCluster,
} from './upstream-target.js';
