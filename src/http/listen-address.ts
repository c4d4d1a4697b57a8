import { BridgeError } from '../core/errors.js';

/** Where a listener binds: a host (empty = all interfaces) and a port (0 = the kernel picks). */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parses the config's `listen` value: `127.0.0.1:8443`, `[::1]:8443`, `localhost:8443` or `:8443`
 * (all interfaces). The schema already checked the shape; this splits it and checks the port range.
 */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw new BridgeError('ERR_INPUT_INVALID', `invalid listen address ${JSON.stringify(text)}`);
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

/** `https://127.0.0.1:8443`, `http://[::1]:8080`: the URL a bound socket is reachable at. */
export function listenURL(protocol: 'http' | 'https', address: { address: string; port: number }): string {
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `${protocol}://${host}:${address.port}`;
}
