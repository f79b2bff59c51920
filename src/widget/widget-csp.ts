/**
 * The side panel's Content-Security-Policy: only its own script, style and API may load, and only
 * the Genesys Cloud desktop may frame it. Every other route keeps the global helmet policy
 * (frame-ancestors 'none').
 */
export function widgetFrameAncestors(configured: readonly string[], genesysRegion: string): string[] {
  return configured.length > 0 ? [...configured] : [`https://apps.${genesysRegion}`];
}

export function widgetCsp(frameAncestors: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors.join(' ')}`,
  ].join('; ');
}
