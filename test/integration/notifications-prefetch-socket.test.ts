import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ChannelSocket, SocketOpenError, type ChannelMessage, type SocketEnd } from '../../src/genesys/notifications/channel-socket.js';

/**
 * The channel socket's own health checks, against a bare WebSocket server that can do what the
 * Genesys simulator never does: stay connected and say nothing at all (a half-open connection).
 */
let server: Server | undefined;
let wss: WebSocketServer | undefined;

afterEach(async () => {
  for (const client of wss?.clients ?? []) client.terminate();
  wss?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  wss = undefined;
});

async function listen(onConnection: (ws: WebSocket) => void): Promise<string> {
  server = createServer((_req, res) => res.writeHead(404).end());
  const sockets = new WebSocketServer({ noServer: true });
  wss = sockets;
  // one channel exists; any other is 404, as Genesys answers for a channel it does not have
  server.on('upgrade', (req, sock, head) => {
    if (req.url !== '/channels/c1') sock.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    else sockets.handleUpgrade(req, sock, head, onConnection);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return `ws://127.0.0.1:${port}`;
}

function socket(url: string, messages: ChannelMessage[] = []): { socket: ChannelSocket; ended: Promise<SocketEnd> } {
  let resolveEnd!: (why: SocketEnd) => void;
  const ended = new Promise<SocketEnd>((r) => (resolveEnd = r));
  const s = new ChannelSocket(url, { pingAfterMs: 150, pongTimeoutMs: 150, connectTimeoutMs: 2000 }, { onMessage: (m) => messages.push(m), onEnd: resolveEnd });
  return { socket: s, ended };
}

describe('the channel socket', () => {
  it('a socket that stays silent after our ping is given up as silent (then the owner reconnects)', async () => {
    const pings: string[] = [];
    const base = await listen((ws) => ws.on('message', (d) => pings.push(d.toString())));
    const { socket: s, ended } = socket(`${base}/channels/c1`);
    await s.open();
    expect(await ended).toBe('silent');
    expect(pings).toEqual(['{"message":"ping"}']);
    expect(s.connected).toBe(false);
  });

  it('a socket that answers our ping stays, and its messages are handed on', async () => {
    const messages: ChannelMessage[] = [];
    let pongs = 0;
    let answered!: () => void;
    const twice = new Promise<void>((r) => (answered = r));
    const base = await listen((ws) =>
      ws.on('message', () => {
        ws.send(JSON.stringify({ topicName: 'channel.metadata', eventBody: { message: 'pong' } }));
        if (++pongs === 2) answered();
      }),
    );
    const { socket: s } = socket(`${base}/channels/c1`, messages);
    await s.open();
    await twice; // two quiet spells, two pings, two pongs: still connected
    expect(s.connected).toBe(true);
    expect(messages.map((m) => m.eventBody)).toContainEqual({ message: 'pong' });
    s.close();
  });

  it('a drop is reported as dropped; a channel the server does not have fails to open with its status', async () => {
    let serverSide!: WebSocket;
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    const base = await listen((ws) => {
      serverSide = ws;
      connected();
    });
    const { socket: s, ended } = socket(`${base}/channels/c1`);
    await s.open();
    await ready;
    serverSide.terminate();
    expect(await ended).toBe('dropped');
    const missing = socket(`${base}/channels/other`);
    await expect(missing.socket.open()).rejects.toSatisfy((e) => e instanceof SocketOpenError && e.status === 404);
  });
});
