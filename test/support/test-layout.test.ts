import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROCESS_HEAVY, SPECS_WITH_SOCKETS } from '../../vitest.config.js';

/*
 * The rule for test files (README, Development; vitest.config.ts): `*.spec.ts` is a unit spec
 * beside the module it tests and runs in-process only (the `unit` project's setup enforces that);
 * `*.test.ts` lives under test/ and uses real processes, sockets or the repository's artefacts.
 * No third kind. This file checks the layout; test/support/unit-isolation.spec.ts the isolation.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

const files = [...filesUnder('src'), ...filesUnder('test')].map((f) => f.split('\\').join('/'));
/** Anything named like a test, whatever the convention (foo.test.js, foo.e2e.ts, foo_test.ts, foo.specs.ts …). */
const TEST_LIKE = /(?:[._-](?:test|tests|spec|specs|e2e|it)\.[cm]?[jt]sx?)$/;
const specs = files.filter((f) => f.endsWith('.spec.ts'));
const tests = files.filter((f) => f.endsWith('.test.ts'));

describe('test file layout', () => {
  it('finds both kinds (the walk works)', () => {
    expect(specs.length).toBeGreaterThan(40);
    expect(tests.length).toBeGreaterThan(30);
  });

  it('uses only the two suffixes', () => {
    const other = files.filter((f) => TEST_LIKE.test(basename(f)) && !f.endsWith('.spec.ts') && !f.endsWith('.test.ts'));
    expect(other).toEqual([]);
  });

  it('keeps every *.test.ts under test/', () => {
    expect(tests.filter((f) => !f.startsWith('test/'))).toEqual([]);
  });

  it('puts every *.spec.ts beside a module (the code it tests lives in the same folder)', () => {
    const modules = new Set(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && !f.endsWith('.test.ts')).map((f) => dirname(f)));
    expect(specs.filter((f) => !modules.has(dirname(f)))).toEqual([]);
  });

  it('names in vitest.config.ts only files that exist, of the right kind', () => {
    for (const f of SPECS_WITH_SOCKETS) expect(files, f).toContain(f);
    for (const f of SPECS_WITH_SOCKETS) expect(f.endsWith('.spec.ts'), f).toBe(true);
    for (const pattern of PROCESS_HEAVY) {
      const literal = pattern.includes('*') ? undefined : pattern;
      if (literal) expect(tests, literal).toContain(literal);
      else expect(tests.some((f) => f.startsWith(pattern.slice(0, pattern.indexOf('*')))), pattern).toBe(true);
    }
  });

  it('keeps the root clear of test files', () => {
    expect(readdirSync(ROOT).filter((f) => TEST_LIKE.test(f) || f.endsWith('.spec.ts') || f.endsWith('.test.ts'))).toEqual([]);
  });
});
