/** Why a call to an external system failed, in terms the aggregation and the resilience layer act on. */
export type UpstreamErrorKind = 'auth' | 'not_found' | 'rate_limited' | 'timeout' | 'unavailable' | 'bad_response' | 'bad_request' | 'conflict' | 'circuit_open';

/**
 * The one error type of every outbound call: the CRM connectors, the Genesys Cloud Platform API
 * and the Genesys IP-range refresher. `source` names the system; the message never carries a
 * response body, a token or a customer identifier.
 */
export class UpstreamError extends Error {
  constructor(
    readonly source: string,
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly status?: number,
    /** For rate limiting: when the source said to come back, in ms from now. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'UpstreamError';
  }

  /** Errors worth retrying for an idempotent read (never auth or bad requests). */
  get transient(): boolean {
    return this.kind === 'timeout' || this.kind === 'unavailable' || this.kind === 'rate_limited';
  }
}

export function isUpstreamError(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError;
}
