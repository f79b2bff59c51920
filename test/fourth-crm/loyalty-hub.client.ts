import { Injectable } from '@nestjs/common';

import { VendorClients } from '../../src/connectors/vendor-clients.js';
import { Resilient } from '../../src/resilience/resilient.decorator.js';
import type { VendorClient } from '../../src/upstream/vendor-client.js';
import { parseJson, statusError } from '../../src/upstream/vendor-http.js';
import { LoyaltyHubConfig } from './loyalty-hub.config.js';

const SOURCE = 'loyaltyhub';

/** Loyalty Hub I/O through the connector kernel: one keep-alive instance, Basic auth, typed errors. */
@Injectable()
export class LoyaltyHubClient {
  private readonly vendor: VendorClient;

  constructor(config: LoyaltyHubConfig, clients: VendorClients) {
    this.vendor = clients.create(SOURCE, { auth: { mode: 'basic', username: config.username, password: config.password } });
  }

  /** A member by customer number; undefined when the hub has none. */
  @Resilient(SOURCE, { settings: LoyaltyHubConfig })
  async member(customerNumber: string, signal: AbortSignal): Promise<unknown> {
    const response = await this.vendor.send({ method: 'GET', url: `/api/members/${encodeURIComponent(customerNumber)}`, signal, headers: { accept: 'application/json' } });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw statusError(SOURCE, response);
    return parseJson(SOURCE, response);
  }
}
