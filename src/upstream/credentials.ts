/** A header value for HTTP Basic authentication. */
export function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** The Authorization header of one request, and the bearer token it carries (to drop it if refused). */
export interface Authorization {
  header: string;
  token?: string;
}

/** Where a system's Authorization header comes from: a technical user (Basic) or a token source (Bearer). */
export interface Credentials {
  /** The header for the next request. `signal` only stops this caller waiting for a token. */
  authorize(signal?: AbortSignal): Promise<Authorization>;
  /**
   * The system answered 401 to `authorization`: forget it. True when asking again may succeed (a
   * token was dropped and a new one will be fetched), false when it cannot (a Basic password).
   */
  refused(authorization: Authorization): boolean;
}

/** Basic authentication: the same header every time; a 401 is final. */
export function basicCredentials(user: string, password: string): Credentials {
  const header = basicHeader(user, password);
  return { authorize: () => Promise.resolve({ header }), refused: () => false };
}

/** What a bearer token source offers: the current token, and forgetting one the system refused. */
export interface TokenSource {
  get(signal?: AbortSignal): Promise<string>;
  invalidate(token: string): void;
}

/** Bearer authentication from a token source (e.g. a client-credentials TokenCache); a 401 drops the token. */
export function bearerCredentials(tokens: TokenSource): Credentials {
  return {
    authorize: async (signal) => {
      const token = await tokens.get(signal);
      return { header: `Bearer ${token}`, token };
    },
    refused: (authorization) => {
      if (authorization.token === undefined) return false;
      tokens.invalidate(authorization.token);
      return true;
    },
  };
}
