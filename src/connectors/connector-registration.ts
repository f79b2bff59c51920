import type { Type } from '@nestjs/common';

import type { ConnectorSettings, CustomerConnector } from './connector.js';

/**
 * Everything the rest of the service learns about one system, from its own folder: its name
 * (responses, metrics, its configuration section, its webhook path), its settings class (whose
 * `@Env` settings appear in the configuration, the README table and the chart, and whose rate
 * limit its @Resilient calls get), the module providing it and the connector class.
 */
export interface ConnectorRegistration<S extends string = string, C extends ConnectorSettings = ConnectorSettings> {
  readonly source: S;
  readonly config: Type<C> & (new () => C);
  readonly module: Type;
  readonly connector: Type<CustomerConnector>;
  /** The phone/e-mail directory (CustomerDirectory) of the service: exactly one registered system is. */
  readonly directory?: boolean;
}

/** A registration, with its name and settings class kept as precise types (the configuration is typed from them). */
export function registration<S extends string, C extends ConnectorSettings>(r: ConnectorRegistration<S, C>): ConnectorRegistration<S, C> {
  return r;
}
