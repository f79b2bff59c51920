import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The flags the container image gives `node` before the service's entry point (the Dockerfile's
 * exec-form ENTRYPOINT: `["node", …flags, "dist/src/main.js"]`), so that processes started here for
 * measurements (the bench) run the service as the image does. The Dockerfile is the one place they
 * are written; `npm start` is checked against it (test/deployment).
 */
export function imageNodeFlags(): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(dockerfilePath(), 'utf8'))?.[1];
  if (!line) throw new Error('the Dockerfile has no exec-form ENTRYPOINT');
  const words = JSON.parse(line) as string[];
  if (words[0] !== 'node' || words[words.length - 1] !== 'dist/src/main.js') throw new Error(`unexpected ENTRYPOINT ${line}`);
  return words.slice(1, -1);
}

/** The repository's Dockerfile, found from here up (this file runs from test/ and from dist/test/). */
function dockerfilePath(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'Dockerfile');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error('no Dockerfile above test/support');
  }
}
