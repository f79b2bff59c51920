/**
 * The four simulators in a process of their own (forked by the bench), so that the load
 * generator's CPU does not delay the simulators' latency timers and vice versa. Faults and call
 * counters are reached over each simulator's `/__sim/*` HTTP API; stopping and starting a
 * simulator (a real outage: its port refuses connections) goes over the IPC channel.
 *
 * argv: <customers> <genesysTokenLifetimeSeconds>
 */
import { seededCustomers } from '../sandbox/shared/seed.js';
import { startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { freePort } from '../support/free-port.js';
import { type HostMessage, type HostRequest, SIM_NAMES, type SimName } from './sim-protocol.js';

async function main(): Promise<void> {
  const customers = Number(process.argv[2] ?? 60);
  const tokenLifetime = Number(process.argv[3] ?? 86_399);
  // fixed ports (chosen once), so a stopped simulator comes back where the service expects it
  const ports = Object.fromEntries(await Promise.all(SIM_NAMES.map(async (n) => [n, await freePort()] as const))) as Record<SimName, number>;
  const sims = await startSimulators(ports, { customers: seededCustomers(customers), genesysTokenLifetimeSeconds: tokenLifetime });
  const send = (message: HostMessage) => process.send?.(message);
  process.on('message', (raw: HostRequest) => {
    void (async () => {
      try {
        if (raw.op === 'close') {
          await stopSimulators(sims);
          send({ id: raw.id, ok: true });
          process.disconnect();
          return;
        }
        if (raw.op === 'stop') await sims[raw.sim].stop();
        else await sims[raw.sim].start();
        send({ id: raw.id, ok: true });
      } catch (err) {
        send({ id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  // the bench went away: nothing to serve any more
  process.on('disconnect', () => process.exit(0));
  send({ ready: true, urls: Object.fromEntries(SIM_NAMES.map((n) => [n, sims[n].url])) as Record<SimName, string> });
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator host failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
