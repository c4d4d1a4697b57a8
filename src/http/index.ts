export {
  type CertificateKind,
  type CertificateRole,
  earliestNotAfter,
  recordCertificateExpiry,
} from './certificate-expiry.js';
export { errorMiddleware } from './error-middleware.js';
export { type ErrorAnswer, errorAnswer, HTTP_STATUS_BY_CODE, RETRY_AFTER_SECONDS } from './error-status.js';
export { type ListenAddress, listenURL, parseListenAddress } from './listen-address.js';
export { createMetrics, type Metrics } from './metrics.js';
export { answerOpsRequest, createOpsListener, type OpsDeps, opsMiddleware } from './ops-routes.js';
export {
  jsonAnswer,
  NOT_FOUND,
  type PlainAnswer,
  routePath,
  sendAnswer,
  textAnswer,
} from './plain-answer.js';
export { pathOf } from './request-path.js';
export {
  closeGracefully,
  type RunningServer,
  type StartServerOptions,
  startServer,
} from './server-lifecycle.js';
