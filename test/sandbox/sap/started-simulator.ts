import { afterAll, beforeAll, beforeEach } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { SapSimulator } from './sap.simulator.js';

const { username, password } = SANDBOX_CREDENTIALS.sap;

/** The sandbox's SAP technical user, as a Basic authorization header. */
export const SAP_BASIC_AUTH = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/** A SAP simulator on a free port for the calling test file: started before its tests, reset before each, stopped after. */
export function startedSapSimulator(): SapSimulator {
  const sim = new SapSimulator();
  beforeAll(async () => {
    await sim.start();
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.reset());
  return sim;
}
