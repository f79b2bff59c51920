import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';

import type { Credentials } from './credentials.js';
import { destroyVendorHttp, send } from './vendor-http.js';

/**
 * One system's HTTP edge: its keep-alive instance and its credentials. `send` is the one way a
 * request is authorized here: the current Authorization header goes with it, and a 401 to a token
 * drops that token and sends once more with a new one (a Basic password refused is final).
 * Statuses are the caller's to judge; network failures reject with an UpstreamError.
 */
export class VendorClient {
  constructor(
    readonly source: string,
    readonly http: AxiosInstance,
    /** Also for a multi-step exchange a client sends itself (SAP's CSRF round trip). */
    readonly credentials: Credentials,
  ) {}

  async send(request: AxiosRequestConfig): Promise<AxiosResponse<string>> {
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.credentials.authorize(request.signal as AbortSignal | undefined);
      const response = await send(this.source, this.http, { ...request, headers: { ...(request.headers as Record<string, string> | undefined), authorization: authorization.header } });
      if (response.status === 401 && attempt === 0 && this.credentials.refused(authorization)) continue;
      return response;
    }
  }

  /** A log-in under way (see beforeCall): requests that need one wait for it. */
  private loggingIn: Promise<unknown> | undefined;

  /**
   * Runs `login` first when a request would otherwise fetch a token inside its own call: the
   * client's log-in is a call of its own under the system's rate limit (inside a call it would make
   * two requests on that call's one slot — at start-up every replica's first look-ups did, and the
   * bench's Redis drill saw Salesforce at 7 calls in a second against 5). Concurrent requests share
   * one log-in; when it fails they go on, and each logs in within its own call as before.
   */
  async beforeCall(login: () => Promise<unknown>): Promise<void> {
    if (this.credentials.ready()) return;
    this.loggingIn ??= login().finally(() => (this.loggingIn = undefined));
    await this.loggingIn.catch(() => undefined);
  }

  /** Closes the keep-alive sockets (on shutdown). */
  close(): void {
    destroyVendorHttp(this.http);
  }
}
