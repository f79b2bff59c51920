import { type Agent, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { describe, expect, it, vi } from 'vitest';

import { createVendorHttp, destroyVendorHttp } from '../../src/upstream/vendor-http.js';

describe('vendor HTTP: pooled sockets', () => {
  it('reuses one keep-alive socket, and sets its TCP keep-alive once, not again at every call (axios and the agent agree on the delay)', async () => {
    const server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const http = createVendorHttp(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 2000);
    try {
      await http.get('/');
      const agent = http.defaults.httpAgent as Agent;
      const [socket] = Object.values(agent.freeSockets).flat() as Socket[];
      // the system call behind Socket.setKeepAlive (Node skips it when nothing changes)
      const handle = (socket as unknown as { _handle: { setKeepAlive: (...args: unknown[]) => unknown } })._handle;
      const native = vi.spyOn(handle, 'setKeepAlive');
      for (let i = 0; i < 3; i++) await http.get('/');
      expect(Object.values(agent.freeSockets).flat()).toEqual([socket]); // the same socket each time
      expect(native).not.toHaveBeenCalled();
    } finally {
      destroyVendorHttp(http);
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
