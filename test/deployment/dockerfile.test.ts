import { describe, expect, it } from 'vitest';

import { imageNodeFlags } from '../support/image-node-flags.js';
import { dockerfile, read, type Stage } from './artefacts.js';

/* The container image's recipe: stages, base image, user, entry point and build context. */

describe('Dockerfile', () => {
  const { globalArgs, stages, user, entrypoint } = dockerfile();
  const final = stages[stages.length - 1];
  const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

  it('builds from the current Node LTS line on a slim Debian base, overridable by build args', () => {
    const nodeVersion = globalArgs.find((a) => a.args.startsWith('NODE_VERSION='))?.args.split('=')[1];
    expect(Number(nodeVersion) % 2, 'LTS lines are even').toBe(0);
    expect(Number(nodeVersion)).toBeGreaterThanOrEqual(24);
    expect(globalArgs.map((a) => a.args)).toContain('NODE_IMAGE=node:${NODE_VERSION}-trixie-slim');
    for (const s of stages) expect(s.from).toBe('${NODE_IMAGE}');
  });

  it('is multi-stage: production dependencies in one stage, the build in another, neither tool chain in the image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const deps = stages.find((s) => runs(s).some((r) => /npm ci\b.*--omit=dev/.test(r)));
    expect(deps?.name).toBeDefined();
    const build = stages.find((s) => runs(s).some((r) => r.includes('npm run build')));
    expect(build?.name).toBeDefined();
    expect(final).not.toBe(deps);
    expect(final).not.toBe(build);
    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContain(`--from=${deps?.name} /app/node_modules ./node_modules`);
    expect(copies).toContain(`--from=${build?.name} /app/dist/src ./dist/src`);
    expect(copies.some((c) => /\bdist\/test\b|\/app\/dist \./.test(c)), 'the sandbox under dist/test stays out').toBe(false);
    expect(runs(final).some((r) => /npm (ci|install|i)\b/.test(r)), 'nothing installed in the final stage').toBe(false);
    expect(final.instructions).toContainEqual({ keyword: 'ENV', args: 'NODE_ENV=production' });
  });

  it('runs as a numeric non-root user, with no HEALTHCHECK, and node itself as PID 1 (exec form)', () => {
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    expect(stages.flatMap((s) => s.instructions).some((i) => i.keyword === 'HEALTHCHECK')).toBe(false);
    expect(entrypoint).toEqual(['node', ...imageNodeFlags(), 'dist/src/main.js']);
    expect(imageNodeFlags()).toEqual(['--max-semi-space-size=32']);
    expect(final.instructions.some((i) => i.keyword === 'CMD')).toBe(false);
  });

  it('keeps the build context clean with .dockerignore', () => {
    const ignored = read('.dockerignore').split(/\r?\n/).map((l) => l.trim());
    for (const entry of ['node_modules', '.git', 'dist', 'coverage', 'test-artifacts', 'bench-results', '.env', '.env.*', '*.log']) expect(ignored, entry).toContain(entry);
    for (const kept of ['src', 'test', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) expect(ignored, `${kept} is needed by the build`).not.toContain(kept);
  });
});
