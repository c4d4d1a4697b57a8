import { once } from 'node:events';
import { Agent, createServer, request, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { IDLE_CLOSE_BATCH } from '../../src/http/connection-tracker.js';
import { startServer } from '../../src/http/index.js';

/** Graceful close of a listener: what clients see while it drains. */

function get(url: string, agent: Agent): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('draining', () => {
  it('every response once draining starts says Connection: close, the one in flight included', async () => {
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      if (req.url === '/hold') held.push(res);
      else res.end('ok');
    });
    const running = await startServer(server, { protocol: 'http', listen: '127.0.0.1:0' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(`${running.url}/`, agent)).connection).toBe('keep-alive');
      const inFlight = get(`${running.url}/hold`, agent);
      await until(() => held.length === 1);

      const closing = running.close();
      held[0]?.end('late');
      // Regression: the in-flight answer said keep-alive and the client's next request raced the sweep.
      expect(await inFlight).toEqual({ status: 200, connection: 'close' });
      await closing;
      expect(server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it(`idle connections are closed at most ${IDLE_CLOSE_BATCH} per event-loop turn, not all in one`, async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const running = await startServer(server, { protocol: 'http', listen: '127.0.0.1:0' });
    const port = Number(new URL(running.url).port);
    const closedInTurn: number[] = [];
    let turn = 0;
    server.on('connection', (socket: Socket) => socket.on('close', () => closedInTurn.push(turn)));

    const COUNT = IDLE_CLOSE_BATCH * 3 + 10;
    const clients: Socket[] = [];
    for (let i = 0; i < COUNT; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      clients.push(socket);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await once(socket, 'data');
    }

    let counting = true;
    const ticker = (async () => {
      while (counting) {
        await new Promise((r) => setImmediate(r));
        turn += 1;
      }
    })();
    await running.close();
    counting = false;
    await ticker;
    for (const c of clients) c.destroy();

    expect(closedInTurn).toHaveLength(COUNT);
    const perTurn = new Map<number, number>();
    for (const t of closedInTurn) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(IDLE_CLOSE_BATCH);
    expect(perTurn.size).toBeGreaterThanOrEqual(4);
  });
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}
