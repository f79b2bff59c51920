import { CONNECTOR_REGISTRY } from '../../src/connectors/connector-registry.js';
import { LOYALTY_HUB } from '../fourth-crm/loyalty-hub.module.js';

/** The systems of record plus a test-only fourth one: its registration, the one line outside its folder. */
export const REGISTRY_WITH_A_FOURTH_SYSTEM = [...CONNECTOR_REGISTRY, LOYALTY_HUB] as const;
