import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AGENT_CHECK_CLIENTS_MAX, AgentCheckBudget } from './agent-check-budget.js';
import { AuthConfig } from './auth.config.js';

function budget(perMinute: number): AgentCheckBudget {
  return new AgentCheckBudget(Object.assign(new AuthConfig(), { agentTokenRefusalsPerMin: perMinute }));
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-03-02T09:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('AgentCheckBudget', () => {
  it('grants AGENT_TOKEN_REFUSALS_PER_MIN units a minute per client, then says how long to wait', async () => {
    const b = budget(3);
    expect([await b.take('198.51.100.7'), await b.take('198.51.100.7'), await b.take('198.51.100.7')]).toEqual([undefined, undefined, undefined]);
    expect(await b.take('198.51.100.7')).toBe(60);
    vi.setSystemTime(Date.now() + 20_500);
    expect(await b.take('198.51.100.7')).toBe(40);
    expect(await b.take('198.51.100.8')).toBeUndefined();
  });

  it('counts a fixed window from the first unit: later units do not extend it', async () => {
    const b = budget(2);
    await b.take('c');
    vi.setSystemTime(Date.now() + 59_000);
    await b.take('c');
    expect(await b.take('c')).toBe(1);
    vi.setSystemTime(Date.now() + 1_001);
    expect(await b.take('c')).toBeUndefined();
  });

  it('takes a unit back when the token was accepted, never below zero', async () => {
    const b = budget(1);
    expect(await b.take('c')).toBeUndefined();
    await b.giveBack('c');
    expect(await b.take('c')).toBeUndefined();
    expect(await b.take('c')).toBe(60);
    await b.giveBack('c');
    await b.giveBack('c');
    await b.giveBack('unknown-client');
    expect(await b.take('c')).toBeUndefined();
    expect(await b.take('c')).toBe(60);
  });

  it('a unit given back after the window ended does not carry into the next one', async () => {
    const b = budget(1);
    await b.take('c');
    vi.setSystemTime(Date.now() + 60_001);
    await b.giveBack('c');
    expect(await b.take('c')).toBeUndefined();
    expect(await b.take('c')).toBe(60);
  });

  it('holds at most AGENT_CHECK_CLIENTS_MAX clients; the least recently charged starts again', async () => {
    const b = budget(1);
    for (let i = 0; i <= AGENT_CHECK_CLIENTS_MAX; i++) await b.take(`client-${i}`);
    expect(await b.take(`client-${AGENT_CHECK_CLIENTS_MAX}`)).toBe(60);
    expect(await b.take('client-1')).toBe(60);
    expect(await b.take('client-0')).toBeUndefined();
  });
});
