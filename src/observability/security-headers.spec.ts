import { describe, expect, it } from 'vitest';
import type { HelmetOptions } from 'helmet';
import { HELMET_OPTIONS, securityHeaders } from './security-headers.js';

describe('security headers worked out once', () => {
  it("holds helmet's policy for every answer: our CSP, HSTS, nosniff, and no X-Frame-Options", () => {
    const headers = securityHeaders();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers).not.toHaveProperty('x-frame-options');
    expect(headers).not.toHaveProperty('x-powered-by');
    // names as Fastify keeps them, so a route's own header (the side panel's CSP) replaces ours
    expect(Object.keys(headers).every((name) => name === name.toLowerCase())).toBe(true);
  });

  it('follows the options given (helmet decides, not a copy of its output)', () => {
    const headers = securityHeaders({ ...HELMET_OPTIONS, xFrameOptions: { action: 'deny' }, hsts: false } as HelmetOptions);
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers).not.toHaveProperty('strict-transport-security');
  });

  it('cannot be changed by whoever uses it', () => {
    expect(Object.isFrozen(securityHeaders())).toBe(true);
  });
});
