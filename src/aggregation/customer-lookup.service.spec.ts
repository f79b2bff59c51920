import { BadRequestException } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../resilience/deadline.js';
import type { AggregationService, ProfileResult } from './aggregation.service.js';
import { CustomerLookupService } from './customer-lookup.service.js';
import type { DirectoryService } from './directory.service.js';

/** The look-ups by number, phone and e-mail, with the fan-out and the directory faked. */

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const result = (customerId: string): ProfileResult => ({ verdict: 'found', view: { customerId } as ProfileResult['view'] });

function harness(matches: string[] | Error = ['0010100001', '0010100002']) {
  const profiles: Array<{ customerId: string; deadline?: Deadline }> = [];
  const found: Array<{ by: string; value: string; deadline: Deadline }> = [];
  const aggregation = {
    deadline: () => Deadline.after(800),
    getProfile: (customerId: string, deadline?: Deadline) => {
      profiles.push({ customerId, deadline });
      return Promise.resolve(result(customerId));
    },
  };
  const answer = () => (matches instanceof Error ? Promise.reject(matches) : Promise.resolve(matches));
  const directory = {
    normalizePhone: (input: string) => (input === 'not a phone' ? undefined : '+14155550100'),
    byPhone: (value: string, deadline: Deadline) => (found.push({ by: 'phone', value, deadline }), answer()),
    byEmail: (value: string, deadline: Deadline) => (found.push({ by: 'email', value, deadline }), answer()),
  };
  const svc = new CustomerLookupService(aggregation as unknown as AggregationService, directory as unknown as DirectoryService);
  return { svc, profiles, found };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CustomerLookupService', () => {
  it('by number: the profile, by a deadline of the fan-out\'s own', async () => {
    const h = harness();
    expect(await h.svc.byId('0010100007')).toEqual(result('0010100007'));
    expect(h.profiles).toEqual([{ customerId: '0010100007', deadline: undefined }]);
  });

  it('by phone: the directory and then the first match\'s profile, both under one deadline; the other matches listed', async () => {
    const h = harness();
    expect(await h.svc.byPhone('(415) 555-0100')).toEqual({ ...result('0010100001'), otherMatches: ['0010100002'] });
    expect(h.found).toMatchObject([{ by: 'phone', value: '+14155550100' }]);
    expect(h.found[0].deadline.at).toBe(T0 + 800);
    expect(h.profiles).toEqual([{ customerId: '0010100001', deadline: h.found[0].deadline }]);
  });

  it('by e-mail: no match is undefined, and no profile is asked for', async () => {
    const h = harness([]);
    expect(await h.svc.byEmail('nobody@example.com')).toBeUndefined();
    expect(h.profiles).toHaveLength(0);
  });

  it('a phone number that is not one is a 400, and nothing is looked up', async () => {
    const h = harness();
    await expect(h.svc.byPhone('not a phone')).rejects.toBeInstanceOf(BadRequestException);
    expect(h.found).toHaveLength(0);
  });

  it('ends the deadline\'s timers when done, found or failed', async () => {
    for (const h of [harness(), harness(new Error('directory down'))]) {
      const dispose = vi.spyOn(Deadline.prototype, 'dispose');
      await h.svc.byEmail('ann@example.com').catch(() => undefined);
      expect(dispose).toHaveBeenCalledOnce();
      dispose.mockRestore();
    }
  });
});
