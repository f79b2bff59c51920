import { HttpModule, HttpService } from '@nestjs/axios';
import { type DynamicModule, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, Optional, type Type } from '@nestjs/common';
import type { AxiosResponse } from 'axios';

import { Metrics } from '../observability/metrics.js';
import { clientCredentialsCache } from '../upstream/client-credentials.js';
import { basicCredentials, bearerCredentials } from '../upstream/credentials.js';
import { Deadline } from '../upstream/deadline.js';
import { sleep } from '../upstream/timers.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import { VendorClient } from '../upstream/vendor-client.js';
import { vendorHttpConfig } from '../upstream/vendor-http.js';

/** How a system authenticates: a technical user (Basic), or OAuth2 client credentials (Bearer). */
export type VendorAuth =
  | { mode: 'basic'; username: string; password: string }
  | {
      mode: 'client-credentials';
      /** Relative to the base URL, or absolute. */
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      /** Client credentials in the form body, or in a Basic header (SAP XSUAA). */
      style: 'form' | 'basic';
      /** The vendor's reading of a refused token request (e.g. a rate limit said its own way). */
      classifyError?: (response: AxiosResponse<string>) => UpstreamError;
      /**
       * When the token endpoint is the system itself (Salesforce, ServiceNow): the client's log-in as
       * a call under the system's policy (a @Resilient method that authorizes), so the log-in at
       * start-up counts against its rate limit like any call. Left out when the token comes from
       * elsewhere (SAP's XSUAA is not the S/4HANA system): the log-in is then a plain token request.
       */
      resilientLogIn?: (signal: AbortSignal) => Promise<unknown>;
    };

export interface VendorClientOptions {
  auth: VendorAuth;
  /** False when the system is switched off (`<SYSTEM>_ENABLED=false`): it is never called, not even to log in at start-up. */
  enabled?: boolean;
}

/** Where a system is and how long one call to it may take, from its settings. */
export interface VendorTarget {
  baseUrl: string;
  timeoutMs: number;
}

/**
 * The HTTP client of one system's module (import it there, beside VendorClients in its providers):
 * @nestjs/axios's HttpModule over one keep-alive axios instance made from the system's settings
 * (vendorHttpConfig). The calls go through the instance itself (`HttpService.axiosRef`): every call
 * here is an awaited promise cancelled by an AbortSignal, so HttpService's Observables would only add
 * a layer.
 */
export function vendorHttpModule<C>(settings: Type<C>, target: (config: C) => VendorTarget): DynamicModule {
  return HttpModule.registerAsync({
    useFactory: (config: C) => {
      const { baseUrl, timeoutMs } = target(config);
      return vendorHttpConfig(baseUrl, timeoutMs);
    },
    inject: [settings],
  });
}

/** The longest start-up waits for one system's log-in, waits for a rate-limit slot included. */
const START_UP_LOG_IN_MS = 3_000;

/** A client-credentials client to log in at start-up, and its log-in under the system's policy when it has one. */
interface StartUpLogIn {
  client: VendorClient;
  resilient: ((signal: AbortSignal) => Promise<unknown>) | undefined;
}

/**
 * Makes each connector's HTTP edge the same way: its module's keep-alive instance (vendorHttpModule), Basic or a
 * client-credentials token cache (refreshed before expiry, counted in c360_token_refreshes_total),
 * "authorize, send, re-authenticate once on 401" (VendorClient.send), and every instance closed
 * on shutdown.
 *
 * A client-credentials client logs in at start-up, through its system's policy (rate limit, breaker)
 * when its token endpoint is the system itself (waiting for a slot when replicas start together), and
 * start-up waits for it no longer than START_UP_LOG_IN_MS:
 * the first screen pop then finds a token, and a burst's first second is not spent on log-ins
 * sharing the look-ups' slots (each replica used to log in inside its first look-up's call: two
 * requests on one slot). A log-in that fails is logged and left to the first look-up, as before;
 * it never stops the service from starting.
 */
@Injectable()
export class VendorClients implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(VendorClients.name);
  private readonly made: VendorClient[] = [];
  private readonly logIns: StartUpLogIn[] = [];

  constructor(
    private readonly httpService: HttpService,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  create(source: string, options: VendorClientOptions): VendorClient {
    const http = this.httpService.axiosRef;
    const auth = options.auth;
    const credentials =
      auth.mode === 'basic'
        ? basicCredentials(auth.username, auth.password)
        : bearerCredentials(
            clientCredentialsCache(
              { source, http, tokenPath: auth.tokenUrl, clientId: auth.clientId, clientSecret: auth.clientSecret, style: auth.style, classifyError: auth.classifyError },
              { onFetched: (outcome) => this.metrics?.tokenRefreshes.inc({ system: source, outcome }) },
            ),
          );
    const client = new VendorClient(source, http, credentials);
    this.made.push(client);
    if (auth.mode === 'client-credentials' && options.enabled !== false) this.logIns.push({ client, resilient: auth.resilientLogIn });
    return client;
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.logIns.map((logIn) => this.logIn(logIn)));
  }

  private async logIn({ client, resilient }: StartUpLogIn): Promise<void> {
    const deadline = Deadline.after(START_UP_LOG_IN_MS);
    const failed = await this.untilLoggedIn(client, resilient, deadline.signal).finally(() => deadline.dispose());
    if (failed === undefined) this.logger.log({ msg: 'logged in at start-up', system: client.source });
    else this.logger.warn({ msg: 'log-in at start-up failed: the first look-up logs in', system: client.source, reason: failed, ...(failed === 'auth' ? { hint: 'check the client id and secret' } : {}) });
  }

  /** Logs in, waiting for a rate-limit slot while `signal` lasts: undefined once logged in, else why not (an error kind). */
  private async untilLoggedIn(client: VendorClient, resilient: StartUpLogIn['resilient'], signal: AbortSignal): Promise<string | undefined> {
    for (;;) {
      try {
        await (resilient ? resilient(signal) : client.credentials.authorize(signal));
        return undefined;
      } catch (err) {
        // replicas starting together share the system's limit: a log-in without a slot waits for the next one
        if (err instanceof UpstreamError && err.kind === 'rate_limited' && (await sleep(Math.max(50, err.retryAfterMs ?? 250), signal))) continue;
        return err instanceof UpstreamError ? err.kind : signal.aborted ? 'timeout' : 'failed';
      }
    }
  }

  onApplicationShutdown(): void {
    for (const client of this.made.splice(0)) client.close();
  }
}
