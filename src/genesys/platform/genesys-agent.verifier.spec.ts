import { createHash } from 'node:crypto';

import { describe, expect, it, vi } from 'vitest';

import { GenesysConfig } from '../../config/genesys.config.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import { ACCEPTED_TTL_MS, GenesysAgentVerifier, MAX_CACHED_VERDICTS, REJECTED_TTL_MS } from './genesys-agent.verifier.js';
import type { GenesysTokenInfo, GenesysTokenInfoClient } from './genesys-token-info.client.js';

const ORG = '7a1d1f4c-2c8e-4c55-9d44-2b1a6b9f0c01';
const PANEL = 'panel-client';
const T0 = Date.parse('2026-03-01T09:00:00Z');

/** A verifier on a fake clock whose Genesys answers come from `answer` (per token). */
function harness(answer: (token: string) => Promise<GenesysTokenInfo | undefined>, options: { pinned?: string } = { pinned: PANEL }) {
  let clock = T0;
  const tokenInfo = vi.fn(answer);
  const client = { tokenInfo } as unknown as GenesysTokenInfoClient;
  const genesys = Object.assign(new GenesysConfig(), { orgId: ORG, agentOauthClientId: options.pinned });
  const verifier = new GenesysAgentVerifier(client, genesys, { now: () => clock });
  return {
    verifier,
    tokenInfo,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const ours = (extra: Partial<GenesysTokenInfo> = {}): Promise<GenesysTokenInfo> => Promise.resolve({ organizationId: ORG, oauthClientId: PANEL, ...extra });

describe('GenesysAgentVerifier', () => {
  it('accepts a token of GENESYS_ORG_ID issued to the panel client', async () => {
    const h = harness(() => ours());
    expect(await h.verifier.verify('agent-token-1')).toBe('accepted');
    expect(h.tokenInfo).toHaveBeenCalledWith('agent-token-1');
  });

  it('calls a token of another organization, or of another OAuth client of ours, foreign', async () => {
    const other = harness(() => ours({ organizationId: '0b0e0e0f-1111-4222-8333-444455556666' }));
    expect(await other.verifier.verify('t')).toBe('foreign');
    const otherClient = harness(() => ours({ oauthClientId: 'some-other-app' }));
    expect(await otherClient.verifier.verify('t')).toBe('foreign');
    const noClient = harness(() => ours({ oauthClientId: undefined }));
    expect(await noClient.verifier.verify('t')).toBe('foreign');
  });

  it('without WIDGET_OAUTH_CLIENT_ID any client of the organization is accepted', async () => {
    const h = harness(() => ours({ oauthClientId: 'some-other-app' }), { pinned: undefined });
    expect(await h.verifier.verify('t')).toBe('accepted');
  });

  it('rejects a token Genesys does not know', async () => {
    const h = harness(() => Promise.resolve(undefined));
    expect(await h.verifier.verify('t')).toBe('rejected');
  });

  it('keeps an accepted verdict for 60 s, then asks Genesys again', async () => {
    const h = harness(() => ours());
    await h.verifier.verify('t');
    h.advance(ACCEPTED_TTL_MS - 1);
    expect(await h.verifier.verify('t')).toBe('accepted');
    expect(h.tokenInfo).toHaveBeenCalledTimes(1);
    h.advance(1);
    await h.verifier.verify('t');
    expect(h.tokenInfo).toHaveBeenCalledTimes(2);
  });

  it('keeps it no longer than Genesys says the token lives (dateTokenIdles)', async () => {
    const h = harness(() => ours({ idlesAt: T0 + 20_000 }));
    await h.verifier.verify('t');
    h.advance(19_999);
    await h.verifier.verify('t');
    expect(h.tokenInfo).toHaveBeenCalledTimes(1);
    h.advance(1);
    await h.verifier.verify('t');
    expect(h.tokenInfo).toHaveBeenCalledTimes(2);
  });

  it('keeps a rejection for 10 s only', async () => {
    const h = harness(() => Promise.resolve(undefined));
    await h.verifier.verify('t');
    h.advance(REJECTED_TTL_MS - 1);
    await h.verifier.verify('t');
    expect(h.tokenInfo).toHaveBeenCalledTimes(1);
    h.advance(1);
    await h.verifier.verify('t');
    expect(h.tokenInfo).toHaveBeenCalledTimes(2);
  });

  it('caches nothing when Genesys cannot answer: the error reaches the caller and the next call asks again', async () => {
    const outage = new UpstreamError('genesys', 'unavailable', 'unexpected status 503', 503);
    const h = harness(() => Promise.reject(outage));
    await expect(h.verifier.verify('t')).rejects.toBe(outage);
    await expect(h.verifier.verify('t')).rejects.toBe(outage);
    expect(h.tokenInfo).toHaveBeenCalledTimes(2);
    expect(h.verifier.size).toBe(0);
  });

  it('lets concurrent checks of one token share one call', async () => {
    let release!: (info: GenesysTokenInfo) => void;
    const h = harness(() => new Promise<GenesysTokenInfo>((resolve) => (release = resolve)));
    const checks = [h.verifier.verify('t'), h.verifier.verify('t'), h.verifier.verify('t')];
    release({ organizationId: ORG, oauthClientId: PANEL });
    expect(await Promise.all(checks)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(h.tokenInfo).toHaveBeenCalledTimes(1);
  });

  it('is bounded: past the limit the oldest verdicts go first', async () => {
    const h = harness(() => ours());
    for (let i = 0; i < MAX_CACHED_VERDICTS + 5; i++) await h.verifier.verify(`token-${i}`);
    expect(h.verifier.size).toBe(MAX_CACHED_VERDICTS);
    h.tokenInfo.mockClear();
    await h.verifier.verify(`token-${MAX_CACHED_VERDICTS + 4}`); // newest: still cached
    expect(h.tokenInfo).not.toHaveBeenCalled();
    await h.verifier.verify('token-0'); // oldest: evicted
    expect(h.tokenInfo).toHaveBeenCalledTimes(1);
  });

  it('keys the cache by the SHA-256 of the token, never the token itself', async () => {
    const h = harness(() => ours());
    await h.verifier.verify('a-very-recognisable-agent-token');
    const keys = [...(h.verifier as unknown as { cache: Map<string, unknown> }).cache.keys()];
    expect(keys).toEqual([createHash('sha256').update('a-very-recognisable-agent-token').digest('base64url')]);
  });
});
