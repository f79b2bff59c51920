import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';

/* This spec runs in the `unit` project, so it checks that project's setup (unit-isolation.ts) is in force. */

describe('unit specs run in-process only', () => {
  it('cannot listen on a port', () => {
    expect(() => createServer().listen(0, '127.0.0.1')).toThrow('listening on a port in a unit spec');
  });

  it('cannot open a connection (net, and fetch through it)', async () => {
    expect(() => connect(6379, '127.0.0.1')).toThrow('opening a connection in a unit spec');
    const failure = await fetch('http://127.0.0.1:8080/').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error & { cause?: unknown }).cause)).toContain('in a unit spec');
  });

  it('cannot start a process', () => {
    expect(() => spawn('true')).toThrow('starting a process (child_process.spawn) in a unit spec');
    expect(() => execFileSync('true')).toThrow('starting a process (child_process.execFileSync) in a unit spec');
  });

  it('can still drive Fastify with inject(), which needs no socket', async () => {
    const adapter = new FastifyAdapter();
    adapter.getInstance().get('/', () => ({ ok: true }));
    expect((await adapter.getInstance().inject({ method: 'GET', url: '/' })).json()).toEqual({ ok: true });
    await adapter.close();
  });
});
