import { writeFileSync } from 'node:fs';

/**
 * Writes the verifier configuration the benchmarks share: the Redis store described by `redis` (the
 * inside of `store.redis: { … }`), the verifier role on loopback (plain HTTP, or mTLS with `tls`:
 * `{ cert, key, clientCA }` files), one audience and the claim mapping the bench tokens are minted
 * for (bench/verifier/tokens.js). Returns `file`.
 */
export function writeVerifierConfig(file, { redis, audience, listen = '127.0.0.1:0', tls, logLevel }) {
  writeFileSync(
    file,
    [
      'store:',
      `  redis: { ${redis} }`,
      'verifier:',
      `  listen: ${listen}`,
      tls
        ? `  tls: { cert: "${tls.cert}", key: "${tls.key}", clientCA: "${tls.clientCA}" }`
        : '  insecureHTTP: true',
      `  audiences: ["${audience}"]`,
      'mapping:',
      '  claimMappings:',
      '    username: { claim: email, prefix: "" }',
      '    groups: { claim: groups, prefix: "oidc:" }',
      ...(logLevel ? [`logging: { level: ${logLevel} }`] : []),
      '',
    ].join('\n'),
  );
  return file;
}
