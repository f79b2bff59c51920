import { describe, expect, it } from 'vitest';

import { sameSlot, slotOf } from '../redis/redis-keys.js';
import { CacheKeys, SCHEMA_VERSION } from './cache-keys.js';

/** The key layout in Redis, stated once (other specs and tests derive names from CacheKeys). */

const SOURCES = ['salesforce', 'sap', 'servicenow'];
const keys = new CacheKeys('c360');

/** Everything of one customer the cache touches: its generation, each source's part, lock and landed channel. */
function everything(k: CacheKeys, customerId: string): string[] {
  return [k.generation(customerId), ...SOURCES.flatMap((s) => [k.part(customerId, s), k.lock(customerId, s), k.landed(customerId, s)])];
}

describe('CacheKeys', () => {
  it('names every key of a customer under the prefix and the customer\'s hash tag; parts and generation under the schema version', () => {
    expect(SCHEMA_VERSION).toBe('v3');
    expect(keys.part('0010100001', 'sap')).toBe('c360:{0010100001}:v3:part:sap');
    expect(keys.generation('0010100001')).toBe('c360:{0010100001}:v3:gen');
    expect(keys.lock('0010100001', 'sap')).toBe('c360:{0010100001}:lock:sap');
    expect(keys.landed('0010100001', 'sap')).toBe('c360:{0010100001}:landed:sap');
    expect(keys.lookup('email', 'Contact1@Acme.example.com')).toBe('c360:v3:email:contact1@acme.example.com');
    expect(keys.lookup('phone', '+14155550100')).toBe('c360:v3:phone:+14155550100');
    expect(keys.lookup('conversation', 'c0ffee')).toBe('c360:v3:conversation:c0ffee');
    expect(keys.near()).toBe('c360:near');
  });

  it('honours CACHE_KEY_PREFIX everywhere', () => {
    const blue = new CacheKeys('blue');
    expect([...everything(blue, '7'), blue.lookup('phone', '1'), blue.near()].every((k) => k.startsWith('blue:'))).toBe(true);
    expect(blue.part('7', 'sap')).toBe('blue:{7}:v3:part:sap');
  });

  it('puts a customer\'s generation, parts, locks and landed channels in one Cluster slot: one MGET, one node', () => {
    for (const customerId of ['0010100001', '0010100002', 'CUST-42', 'a:b', '0']) {
      expect(sameSlot(everything(keys, customerId)), customerId).toBe(true);
      expect(slotOf(keys.part(customerId, 'sap'))).toBe(slotOf(`{${customerId}}`));
    }
  });

  it('spreads customers over the slots (not one hot slot for everything)', () => {
    const slots = new Set(Array.from({ length: 50 }, (_, i) => slotOf(keys.generation(`00101${String(i).padStart(5, '0')}`))));
    expect(slots.size).toBeGreaterThan(40);
    expect(sameSlot([...everything(keys, '0010100001'), ...everything(keys, '0010100002')])).toBe(false);
  });

  it('a customer number holding braces cannot end its tag early or move its keys to another slot', () => {
    const odd = 'x}y{z';
    expect(keys.part(odd, 'sap')).toBe('c360:{x%7Dy%7Bz}:v3:part:sap');
    expect(sameSlot(everything(keys, odd))).toBe(true);
  });
});
