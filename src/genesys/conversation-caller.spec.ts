import { describe, expect, it } from 'vitest';

import { callerNumber } from './conversation-caller.js';

const conversation = (...participants: Array<{ purpose?: string; ani?: string; address?: string }>) => ({ conversationId: 'c', participants });

describe('callerNumber', () => {
  it("takes the customer participant's ANI, not the IVR's, the queue's or the agent's", () => {
    expect(
      callerNumber(
        conversation(
          { purpose: 'ivr', ani: 'tel:+18005550199', address: 'tel:+18005550199' },
          { purpose: 'agent', ani: 'tel:+14155550100', address: 'sip:agent@example.com' },
          { purpose: 'customer', ani: 'tel:+14155550101', address: 'tel:+14155550101' },
        ),
      ),
    ).toBe('+14155550101');
  });

  it('falls back to the address, and to an external party when there is no customer leg', () => {
    expect(callerNumber(conversation({ purpose: 'customer', address: 'tel:+35312340001' }))).toBe('+35312340001');
    expect(callerNumber(conversation({ purpose: 'agent', ani: 'tel:+1' }, { purpose: 'external', address: 'tel:+4420794600002' }))).toBe('+4420794600002');
  });

  it('gives nothing for withheld numbers, SIP addresses, injected text or no outside party', () => {
    expect(callerNumber(conversation({ purpose: 'customer', ani: 'sip:anonymous@anonymous.invalid', address: 'sip:anonymous@anonymous.invalid' }))).toBeUndefined();
    expect(callerNumber(conversation({ purpose: 'customer', ani: 'tel:+14155550100^ORactive=true' }))).toBeUndefined();
    expect(callerNumber(conversation({ purpose: 'agent', ani: 'tel:+14155550100' }))).toBeUndefined();
    expect(callerNumber(conversation())).toBeUndefined();
  });
});
