/** Why a source call failed, in terms the aggregation and the resilience layer act on. */
export type ConnectorErrorKind = 'auth' | 'not_found' | 'rate_limited' | 'timeout' | 'unavailable' | 'bad_response' | 'bad_request' | 'conflict' | 'circuit_open';

export class ConnectorError extends Error {
  constructor(
    readonly source: string,
    readonly kind: ConnectorErrorKind,
    message: string,
    readonly status?: number,
    /** For rate limiting: when the source said to come back, in ms from now. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'ConnectorError';
  }

  /** Errors worth retrying for an idempotent read (never auth or bad requests). */
  get transient(): boolean {
    return this.kind === 'timeout' || this.kind === 'unavailable' || this.kind === 'rate_limited';
  }
}

export function isConnectorError(err: unknown): err is ConnectorError {
  return err instanceof ConnectorError;
}
