import { describe, expect, it } from 'vitest';
import { isLoopbackHttp } from '../../src/http/loopback-url.js';

describe('isLoopbackHttp: where plain http is tolerated', () => {
  it.each([
    ['http://127.0.0.1:8080/', true],
    ['http://127.1.2.3/', true],
    ['http://[::1]:8080/', true],
    ['http://localhost:8080/', true],
    ['https://127.0.0.1/', false],
    ['http://dex.localhost:5556/', false],
    ['http://127.0.0.1.example.com/', false],
    ['http://10.0.0.1/', false],
    ['http://example.com/', false],
  ])('%s → %s', (url, expected) => {
    expect(isLoopbackHttp(new URL(url))).toBe(expected);
  });
});
