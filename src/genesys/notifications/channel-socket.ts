import WebSocket, { type RawData } from 'ws';

/** One message of a notification channel: `{topicName, version, eventBody, metadata}`. */
export interface ChannelMessage {
  topicName: string;
  eventBody: unknown;
}

/** Why a socket ended: Genesys or the network closed it, it went silent (no answer to our ping), or we closed it. */
export type SocketEnd = 'dropped' | 'silent' | 'closed';

export interface ChannelSocketOptions {
  /** Send `{"message":"ping"}` once nothing has arrived for this long. */
  pingAfterMs: number;
  /** Give up on a socket that answers nothing this long after our ping. */
  pongTimeoutMs: number;
  /** Longest wait for the WebSocket handshake. */
  connectTimeoutMs: number;
}

export interface ChannelSocketHandlers {
  onMessage(message: ChannelMessage): void;
  /** Called once, when the socket is gone (never for a socket that failed to open: `open` rejects then). */
  onEnd(why: SocketEnd): void;
}

/**
 * The WebSocket of one notification channel, kept honest as Genesys documents it: every message
 * (heartbeats included, every 30 s) proves it alive; after `pingAfterMs` of quiet we send a ping,
 * and a socket that then stays silent for `pongTimeoutMs` is terminated (a half-open TCP connection
 * otherwise looks connected for minutes while events are lost).
 */
export class ChannelSocket {
  private ws: WebSocket | undefined;
  private lastMessageAt = 0;
  private pingSentAt: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly url: string,
    private readonly options: ChannelSocketOptions,
    private readonly handlers: ChannelSocketHandlers,
    private readonly now: () => number = Date.now,
  ) {}

  /** Connects; resolves once the socket is open, rejects (with the handshake's HTTP status, if any) when it cannot be. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { handshakeTimeout: this.options.connectTimeoutMs, maxPayload: 4 * 1024 * 1024 });
      this.ws = ws;
      let opened = false;
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new SocketOpenError(`handshake answered ${res.statusCode ?? 'no status'}`, res.statusCode));
      });
      ws.once('open', () => {
        opened = true;
        this.lastMessageAt = this.now();
        this.startWatchdog();
        resolve();
      });
      ws.on('message', (data: RawData, isBinary: boolean) => this.received(data, isBinary));
      ws.on('error', (err: Error) => {
        if (!opened) reject(new SocketOpenError(err.message));
        ws.terminate();
      });
      ws.once('close', () => {
        if (!opened) {
          reject(new SocketOpenError('closed during the handshake'));
          return;
        }
        this.finish('dropped');
      });
    });
  }

  /** Closes the socket ourselves (no reconnection is expected of the owner). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopWatchdog();
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      ws.removeAllListeners('close');
      ws.on('error', () => undefined);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
    }
    this.handlers.onEnd('closed');
  }

  get connected(): boolean {
    return !this.ended && this.ws?.readyState === WebSocket.OPEN;
  }

  private received(data: RawData, isBinary: boolean): void {
    this.lastMessageAt = this.now();
    this.pingSentAt = undefined;
    if (isBinary) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
    } catch {
      return; // not ours to understand; it still proved the socket alive
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const { topicName, eventBody } = parsed as { topicName?: unknown; eventBody?: unknown };
    if (typeof topicName !== 'string') return;
    this.handlers.onMessage({ topicName, eventBody });
  }

  private startWatchdog(): void {
    const every = Math.max(25, Math.floor(Math.min(this.options.pingAfterMs, this.options.pongTimeoutMs) / 4));
    this.watchdog = setInterval(() => this.check(), every);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private check(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const now = this.now();
    if (this.pingSentAt !== undefined) {
      if (now - this.pingSentAt >= this.options.pongTimeoutMs) {
        ws.removeAllListeners('close');
        ws.terminate();
        this.finish('silent');
      }
      return;
    }
    if (now - this.lastMessageAt >= this.options.pingAfterMs) {
      this.pingSentAt = now;
      ws.send(JSON.stringify({ message: 'ping' }));
    }
  }

  private finish(why: SocketEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.stopWatchdog();
    this.handlers.onEnd(why);
  }
}

export class SocketOpenError extends Error {
  constructor(
    message: string,
    /** The HTTP status of a refused handshake (404: the channel is gone). */
    readonly status?: number,
  ) {
    super(message);
  }
}
