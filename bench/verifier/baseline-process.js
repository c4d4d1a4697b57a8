// The baseline: what a TokenReview webhook cannot do with less. node:http, read the body, JSON.parse,
// SHA-256 of the token, one Redis GET of the record the real store wrote (read with the store's
// record layout), JSON out. No framework, no claim mapping, no metrics, no logs. Same transport and
// same Redis client library as the verifier.
// Usage: node baseline-process.js REDIS_URL KEY_PREFIX [CERT KEY CLIENT_CA]
//   (with the three files: HTTPS requiring a client certificate; reports {url} over IPC, stops on SIGTERM)
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Redis } from 'ioredis';
import { hashCredential } from '../../dist/core/token-format.js';
import { readAccessToken } from '../../dist/store/record-layout.js';
import { RedisKeys } from '../../dist/store/redis-keys.js';
import { answerLoopDelayQueries } from '../lib/loop-delay.js';

const [redisURL, prefix, certFile, keyFile, clientCAFile] = process.argv.slice(2);
const redis = new Redis(redisURL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
await new Promise((resolve) => redis.once('ready', resolve));
const keys = new RedisKeys(prefix);

function answer(res, apiVersion, status) {
  const body = JSON.stringify({ apiVersion, kind: 'TokenReview', status });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function handle(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const review = JSON.parse(Buffer.concat(chunks).toString());
    redis.get(keys.accessToken(hashCredential(review.spec.token))).then(
      (raw) => {
        const record = raw ? readAccessToken(JSON.parse(raw)) : undefined;
        answer(
          res,
          review.apiVersion,
          record
            ? { authenticated: true, user: { username: record.username }, audiences: record.audiences }
            : { authenticated: false },
        );
      },
      () => {
        res.writeHead(503).end();
      },
    );
  });
}

const server = certFile
  ? createHttpsServer(
      {
        cert: readFileSync(certFile),
        key: readFileSync(keyFile),
        ca: readFileSync(clientCAFile),
        requestCert: true,
        rejectUnauthorized: true,
      },
      handle,
    )
  : createHttpServer(handle);
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () =>
  process.send({ url: `${certFile ? 'https' : 'http'}://127.0.0.1:${server.address().port}` }),
);
answerLoopDelayQueries();
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
  process.exit(0);
});
