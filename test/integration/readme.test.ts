import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { DEMO, demoCustomer } from '../sandbox/shared/seed.js';
import { configTable } from '../support/config-table.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README stays true', () => {
  it('carries the configuration table generated from the config classes', () => {
    expect(README).toContain(configTable());
  });

  it('names the two commands, and .ci/run calls the same test command', () => {
    expect(README).toContain('npm ci && npm run sandbox');
    expect(README).toContain('npm test ');
    expect(readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8')).toMatch(/^npm test /m);
  });

  it("quotes real demo data in its examples", () => {
    expect(README).toContain(`email=${encodeURIComponent(demoCustomer(DEMO.manyTickets).email)}`);
    expect(README).toContain(demoCustomer(DEMO.apostrophe).name);
  });
});
