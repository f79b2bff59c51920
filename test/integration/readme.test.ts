import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { CacheKeys } from '../../src/cache/cache-keys.js';
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

  it('names the cache\'s keys and channels as the cache makes them (Caching, Redis in production)', () => {
    const keys = new CacheKeys('c360');
    for (const name of [keys.part('<customerId>', '<source>'), keys.generation('<customerId>'), keys.lock('<customerId>', '<source>'), keys.landed('<customerId>', '<source>'), keys.near()]) {
      expect(README).toContain(`\`${name}\``);
    }
    expect(README).toContain(`\`SET ${keys.lock('<id>', '<source>')} <token> NX PX\``);
    expect(README).toContain(`\`${keys.landed('<id>', '<source>')}\``);
  });

  it("quotes real demo data in its examples", () => {
    expect(README).toContain(`email=${encodeURIComponent(demoCustomer(DEMO.manyTickets).email)}`);
    expect(README).toContain(demoCustomer(DEMO.apostrophe).name);
  });
});
