/**
 * Keeps one access token for one client and hands it out. It fetches at most one token at a
 * time (concurrent callers share the fetch), refreshes proactively when less than
 * `refreshBeforeMs` remains (callers keep using the current token meanwhile), and forgets a
 * token the system rejected so the next call fetches a new one.
 *
 * Tokens without a known lifetime (Salesforce gives none) are kept until rejected.
 */
export interface IssuedToken {
  accessToken: string;
  /** Lifetime from issue, when the system says. */
  expiresInMs?: number;
}

export interface TokenCacheOptions {
  fetch: () => Promise<IssuedToken>;
  refreshBeforeMs: number;
  now?: () => number;
  /** Called when a background refresh fails (the current token is still used until it expires). */
  onRefreshError?: (err: unknown) => void;
  /** Told of every token request's outcome (metrics). */
  onFetched?: (outcome: 'ok' | 'error') => void;
}

interface Held {
  token: string;
  expiresAt: number | undefined;
}

export class TokenCache {
  private held: Held | undefined;
  private inflight: Promise<Held> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<string> {
    const held = this.held;
    const now = this.now();
    if (held && (held.expiresAt === undefined || held.expiresAt > now)) {
      if (held.expiresAt !== undefined && held.expiresAt - now <= this.options.refreshBeforeMs) {
        this.refresh().catch((err: unknown) => this.options.onRefreshError?.(err));
      }
      return held.token;
    }
    return (await this.refresh()).token;
  }

  /** Drops `token` if it is still the current one (it was rejected by the system). */
  invalidate(token: string): void {
    if (this.held?.token === token) this.held = undefined;
  }

  private refresh(): Promise<Held> {
    if (!this.inflight) {
      this.inflight = this.options
        .fetch()
        .then((issued) => {
          const held: Held = {
            token: issued.accessToken,
            expiresAt: issued.expiresInMs === undefined ? undefined : this.now() + issued.expiresInMs,
          };
          this.held = held;
          this.options.onFetched?.('ok');
          return held;
        })
        .catch((err: unknown) => {
          this.options.onFetched?.('error');
          throw err;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }
}
