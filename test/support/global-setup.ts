import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Compiles the service once (incrementally), with the side panel's static files, so tests can start it as a real process. */
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  cpSync(`${root}src/widget/public`, `${root}dist/src/widget/public`, { recursive: true });
}
