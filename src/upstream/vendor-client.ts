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

  /** Closes the keep-alive sockets (on shutdown). */
  close(): void {
    destroyVendorHttp(this.http);
  }
}
