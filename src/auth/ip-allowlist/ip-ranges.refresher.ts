import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { AxiosInstance } from 'axios';

import { GenesysConfig } from '../../config/genesys.config.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import { createVendorHttp, destroyVendorHttp, expectShape, parseJson, send, statusError } from '../../upstream/vendor-http.js';
import { AddressSet, type Cidr,parseCidr } from './cidr.js';
import { IpAllowlistConfig } from './ip-allowlist.config.js';

const SOURCE = 'genesys-ipranges';
export const IPRANGES_PATH = '/api/v2/ipranges';

/** What the refresher holds: the last good list and how the last attempts went. */
export interface IpRangesSnapshot {
  cidrs: readonly string[];
  /** Epoch ms of the last successful refresh. */
  lastSuccessAt?: number;
  /** Epoch ms of the last failed refresh, and why (no response bodies, no hosts). */
  lastFailureAt?: number;
  lastError?: string;
}

/**
 * Reads `{"entities":[{"cidr","service",…}]}` and keeps the networks of the wanted services.
 * Entries that are not objects or whose cidr does not parse are skipped (and counted); a response
 * that yields no network at all is refused, so a broken answer never empties the allowlist.
 */
export function rangesFromResponse(body: unknown, services: readonly string[]): { networks: Cidr[]; skipped: number } {
  const entities = (body as { entities?: unknown } | null)?.entities;
  expectShape(SOURCE, Array.isArray(entities), 'entities is not an array');
  const wanted = new Set(services);
  const networks: Cidr[] = [];
  let skipped = 0;
  for (const entity of entities as unknown[]) {
    const e = entity as { cidr?: unknown; service?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.service !== 'string' || !wanted.has(e.service)) continue;
    const cidr = typeof e.cidr === 'string' ? parseCidr(e.cidr) : undefined;
    if (cidr) networks.push(cidr);
    else skipped++;
  }
  expectShape(SOURCE, networks.length > 0, `no ranges for service ${[...wanted].join(', ')}`);
  return { networks, skipped };
}

/**
 * Keeps the Genesys Cloud public IP ranges of the configured services (default `data-actions`,
 * the addresses Data Actions call from) fresh: fetched at start-up and every
 * GENESYS_IPRANGES_REFRESH_MS on an unref'd timer. A failed refresh keeps the last good list.
 */
@Injectable()
export class IpRangesRefresher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(IpRangesRefresher.name);
  private readonly http: AxiosInstance;
  private set = AddressSet.EMPTY;
  private state: Omit<IpRangesSnapshot, 'cidrs'> = {};
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly config: IpAllowlistConfig,
    genesys: GenesysConfig,
  ) {
    this.http = createVendorHttp(genesys.resolvedApiUrl, genesys.timeoutMs, 2);
  }

  /** The networks fetched by the last successful refresh (empty before the first one). */
  get current(): AddressSet {
    return this.set;
  }

  snapshot(): IpRangesSnapshot {
    return { cidrs: this.set.cidrs, ...this.state };
  }

  /** Waits for the first refresh (bounded by GENESYS_TIMEOUT_MS) so the service starts with the list. */
  async onModuleInit(): Promise<void> {
    const every = this.config.iprangesRefreshMs;
    if (every <= 0) return;
    await this.refreshNow();
    this.timer = setInterval(() => void this.refreshNow(), every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    destroyVendorHttp(this.http);
  }

  /**
   * Fetches the ranges once and replaces the list on success; on failure logs, records the
   * reason in the snapshot and keeps the last good list. Never rejects; concurrent calls share
   * one request.
   */
  refreshNow(): Promise<void> {
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<void> {
    try {
      const response = await send(SOURCE, this.http, { method: 'GET', url: IPRANGES_PATH, headers: { accept: 'application/json' } });
      if (response.status !== 200) throw statusError(SOURCE, response);
      const { networks, skipped } = rangesFromResponse(parseJson(SOURCE, response), this.config.iprangesServices);
      const next = new AddressSet(networks);
      const changed = next.cidrs.join(',') !== this.set.cidrs.join(',');
      this.set = next;
      this.state = { ...this.state, lastSuccessAt: Date.now() };
      if (changed || skipped > 0) this.logger.log({ msg: 'Genesys IP ranges refreshed', ranges: next.size, skipped });
    } catch (err) {
      const reason = err instanceof UpstreamError ? err.message : 'unexpected error';
      this.state = { ...this.state, lastFailureAt: Date.now(), lastError: reason };
      this.logger.warn({ msg: 'Genesys IP ranges refresh failed; keeping the last list', reason, ranges: this.set.size });
    }
  }
}
