import { describe, expect, it } from 'vitest';

import { FRAME_ANCESTOR_ORIGIN } from './widget.config.js';
import { widgetCsp, widgetFrameAncestors } from './widget-csp.js';

describe('side panel CSP', () => {
  it("lets only the region's Genesys desktop frame the panel unless origins are configured", () => {
    expect(widgetFrameAncestors([], 'mypurecloud.ie')).toEqual(['https://apps.mypurecloud.ie']);
    expect(widgetFrameAncestors(['https://apps.euw2.pure.cloud', 'https://apps.mypurecloud.de'], 'mypurecloud.com')).toEqual(['https://apps.euw2.pure.cloud', 'https://apps.mypurecloud.de']);
  });

  it('allows nothing but its own script, style and API calls', () => {
    const directives = new Map(widgetCsp(['https://apps.mypurecloud.com']).split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(Object.fromEntries(directives)).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'img-src': "'self'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': 'https://apps.mypurecloud.com',
    });
  });

  it("lets the page call the Genesys login host's token endpoint when it signs agents in (PKCE), nothing else changes", () => {
    const directives = new Map(widgetCsp(['https://apps.mypurecloud.ie'], ['https://login.mypurecloud.ie']).split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(directives.get('connect-src')).toBe("'self' https://login.mypurecloud.ie");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('form-action')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe('https://apps.mypurecloud.ie');
    expect(directives.has('navigate-to')).toBe(false);
  });

  it('accepts origins only (no paths, no plain http outside loopback, no directive injection)', () => {
    for (const ok of ['https://apps.mypurecloud.com', 'https://*.pure.cloud', 'https://apps.usw2.pure.cloud:443', 'http://127.0.0.1:4321', 'http://localhost:3000']) expect(ok).toMatch(FRAME_ANCESTOR_ORIGIN);
    for (const bad of ['http://apps.mypurecloud.com', 'https://apps.mypurecloud.com/', "https://a.example.com; script-src 'unsafe-inline'", '*', "'self'", 'https://apps mypurecloud.com']) expect(bad).not.toMatch(FRAME_ANCESTOR_ORIGIN);
  });
});
