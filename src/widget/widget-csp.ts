/**
 * The side panel's Content-Security-Policy: only its own script, style and API may load (plus, when
 * the panel signs agents in itself, the token endpoint of the Genesys login host), and only the
 * Genesys Cloud desktop may frame it. Every other route keeps the global helmet policy
 * (frame-ancestors 'none'). Going to the login host's authorize page is a navigation of the
 * panel's own frame, which CSP does not restrict (there is no navigate-to; form-action only
 * concerns forms, of which the panel has none).
 */
export function widgetFrameAncestors(configured: readonly string[], genesysRegion: string): string[] {
  return configured.length > 0 ? [...configured] : [`https://apps.${genesysRegion}`];
}

export function widgetCsp(frameAncestors: readonly string[], connectOrigins: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["connect-src 'self'", ...connectOrigins].join(' '),
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors.join(' ')}`,
  ].join('; ');
}
