import { BlockList, isIP } from 'node:net';
import type Koa from 'koa';
import { parseAddressRange } from '../../config/index.js';

/**
 * Which peers may tell us the client's address in `X-Forwarded-For`. `false`: none (the socket
 * address is the client). A list: those addresses and CIDR ranges only (`10.0.0.0/8`, `fd00::/8`,
 * `192.0.2.10`). `true`: loopback and private-network peers (RFC 1918, RFC 4193 and loopback), the
 * usual place of an ingress controller or sidecar; a peer on a public address is never believed.
 */
export type ProxyTrust = boolean | readonly string[];

const PRIVATE_RANGES: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
];

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is the IPv4 address it carries. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** A predicate telling whether a peer address is a trusted proxy. */
export function trustedProxies(trust: ProxyTrust): (address: string) => boolean {
  if (trust === false) return () => false;
  const list = new BlockList();
  const ranges =
    trust === true
      ? PRIVATE_RANGES.map(([address, prefix, type]) => ({ address, prefix, type }))
      : trust.map((entry) => {
          const range = parseAddressRange(entry);
          if (!range) throw new Error(`not an address or CIDR range: ${entry}`);
          return range;
        });
  for (const { address, prefix, type } of ranges) list.addSubnet(address, prefix, type);
  return (address) => {
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The client's address: starting from the socket peer, walk `X-Forwarded-For` from its right end (the
 * entry the nearest proxy appended) leftwards while the hop we stand on is a trusted proxy. The first
 * untrusted hop is the client; entries further left are whatever the client wrote and are ignored.
 * @see https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/X-Forwarded-For#selecting_an_ip_address
 */
export function clientAddress(
  socketAddress: string,
  forwardedFor: string | undefined,
  isTrusted: (address: string) => boolean,
): string {
  let current = unmapped(socketAddress);
  const hops = (forwardedFor ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  while (isTrusted(current) && hops.length > 0) {
    const next = unmapped(hops.pop() as string);
    if (isIP(next) === 0) break; // garbage in the header: the last trusted hop is all we know
    current = next;
  }
  return current;
}

/** Sets `ctx.ip` (rate limits, the device page's "requested from") to the client address. */
export function clientAddressMiddleware(trust: ProxyTrust): Koa.Middleware {
  const isTrusted = trustedProxies(trust);
  return async (ctx, next) => {
    ctx.request.ip = clientAddress(ctx.req.socket.remoteAddress ?? '', ctx.get('x-forwarded-for'), isTrusted);
    await next();
  };
}
