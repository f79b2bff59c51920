import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AxiosInstance } from 'axios';

import { GenesysConfig } from '../../config/genesys.config.js';
import { createVendorHttp, destroyVendorHttp, expectShape, parseJson, send, statusError } from '../../upstream/vendor-http.js';

const SOURCE = 'genesys';

/** What this service reads of Genesys's TokenInfo (`GET /api/v2/tokens/me`). */
export interface GenesysTokenInfo {
  /** `organization.id`: the organization the token acts in. */
  organizationId: string;
  /** `homeOrganization.id`: differs from organizationId for a trustee (cloned) user. */
  homeOrganizationId?: string;
  /** `OAuthClient.id`: the OAuth client the token was issued to. */
  oauthClientId?: string;
  /** `dateTokenIdles` (epoch ms): when Genesys stops accepting the token unless it is used. */
  idlesAt?: number;
}

/**
 * Asks Genesys Cloud who a caller's access token belongs to: `GET {GENESYS_API_URL}/api/v2/tokens/me`
 * sent with that token (not ours), so an opaque Genesys token can be verified. One keep-alive pool,
 * GENESYS_TIMEOUT_MS per call. No retries here: this runs on an inbound request, which should fail
 * fast when Genesys cannot answer.
 */
@Injectable()
export class GenesysTokenInfoClient implements OnApplicationShutdown {
  private readonly http: AxiosInstance;

  constructor(config: GenesysConfig) {
    this.http = createVendorHttp(config.resolvedApiUrl, config.timeoutMs);
  }

  onApplicationShutdown(): void {
    destroyVendorHttp(this.http);
  }

  /**
   * The token's TokenInfo, or undefined when Genesys refuses the token (401, 403). Anything else
   * (timeout, connection failure, 429, 5xx, an unreadable body) throws a UpstreamError: Genesys
   * could not say.
   */
  async tokenInfo(token: string, signal?: AbortSignal): Promise<GenesysTokenInfo | undefined> {
    const response = await send(SOURCE, this.http, {
      method: 'GET',
      url: '/api/v2/tokens/me',
      signal,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    if (response.status === 401 || response.status === 403) return undefined;
    if (response.status !== 200) throw statusError(SOURCE, response);
    const body = parseJson(SOURCE, response) as Record<string, unknown> | null;
    const organizationId = idOf(body?.organization);
    expectShape(SOURCE, organizationId !== undefined, 'organization.id');
    const idles = typeof body?.dateTokenIdles === 'string' ? Date.parse(body.dateTokenIdles) : NaN;
    return {
      organizationId,
      homeOrganizationId: idOf(body?.homeOrganization),
      oauthClientId: idOf(body?.OAuthClient),
      idlesAt: Number.isNaN(idles) ? undefined : idles,
    };
  }
}

function idOf(entity: unknown): string | undefined {
  const id = typeof entity === 'object' && entity !== null ? (entity as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
