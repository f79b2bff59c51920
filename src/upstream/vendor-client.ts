import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';

import type { Authorization, Credentials } from './credentials.js';
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
    readonly credentials: Credentials,
  ) {}

  async send(request: AxiosRequestConfig): Promise<AxiosResponse<string>> {
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.authorize(request.signal as AbortSignal | undefined);
      const response = await send(this.source, this.http, { ...request, headers: { ...(request.headers as Record<string, string> | undefined), authorization: authorization.header } });
      if (response.status === 401 && attempt === 0 && this.credentials.refused(authorization)) continue;
      return response;
    }
  }

  /** The header for a request this client sends itself (e.g. a multi-step exchange such as SAP's CSRF round trip). */
  authorize(signal?: AbortSignal): Promise<Authorization> {
    return this.credentials.authorize(signal);
  }

  /** Closes the keep-alive sockets (on shutdown). */
  close(): void {
    destroyVendorHttp(this.http);
  }
}
