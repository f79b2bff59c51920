import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOYALTY_HUB_USER = { username: 'c360-loyalty', password: 'loyalty-hub-password-0123456789' } as const;

/** A tiny Loyalty Hub on 127.0.0.1: `GET /api/members/{customerNumber}` with Basic auth → `{ member: { tier } }`, 404 for an unknown member. */
export class LoyaltyHubSimulator {
  private server: Server | undefined;
  /** Every call received: its path and whether its credentials were right. */
  readonly calls: Array<{ path: string; authorized: boolean }> = [];

  constructor(private readonly members: Readonly<Record<string, string>>) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    const expected = `Basic ${Buffer.from(`${LOYALTY_HUB_USER.username}:${LOYALTY_HUB_USER.password}`).toString('base64')}`;
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      const authorized = req.headers.authorization === expected;
      this.calls.push({ path, authorized });
      const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (!authorized) return reply(401, { error: 'unauthorized' });
      const match = /^\/api\/members\/([^/?]+)$/.exec(path);
      const tier = match ? this.members[decodeURIComponent(match[1])] : undefined;
      return tier === undefined ? reply(404, { error: 'no such member' }) : reply(200, { member: { customerNumber: decodeURIComponent((match as RegExpExecArray)[1]), tier } });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
