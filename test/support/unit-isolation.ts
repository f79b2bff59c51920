import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/*
 * Setup of the `unit` project (*.spec.ts): a spec runs in its own process only. Listening,
 * connecting (HTTP, Redis, fetch: they all end in net.Socket#connect) and starting a process fail
 * at once with the rule, instead of a unit spec quietly depending on a port or a server. What
 * needs those is a *.test.ts under test/ (README, Development). Fastify's inject() and Nest's
 * app.init() open no socket and stay allowed.
 */
function refuse(what: string): never {
  throw new Error(`${what} in a unit spec: *.spec.ts files run in-process only; move this to a *.test.ts under test/`);
}

net.Server.prototype.listen = function listen(): never {
  refuse('listening on a port');
};
net.Socket.prototype.connect = function connect(): never {
  refuse('opening a connection');
};
for (const name of ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync'] as const) {
  Object.defineProperty(childProcess, name, { value: () => refuse(`starting a process (child_process.${name})`), configurable: true, writable: true });
}
// named ESM imports of node:child_process (import { spawn } from ...) see the replacements too
syncBuiltinESMExports();
