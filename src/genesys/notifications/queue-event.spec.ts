import { describe, expect, it } from 'vitest';
import { queueCallEvent, queueConversationEvent, type InboundCall } from '../../../test/sandbox/genesys/genesys.conversations.js';
import { queueTopic, readQueueEvent } from './queue-event.js';

const QUEUE = { id: '702bb2cd-714b-4a56-aecc-e2cd54414922', name: 'Customer Care' };
const TOPIC = queueTopic(QUEUE.id);

function call(overrides: Partial<InboundCall> = {}): InboundCall {
  return {
    conversationId: '0f6a4f0e-2f7d-4b6e-9d0c-6a1b2c3d4e5f',
    ani: 'tel:+14155550100',
    dnis: 'tel:+18005550199',
    queue: QUEUE,
    startTime: '2026-11-23T12:00:00.000Z',
    queuedAt: '2026-11-23T12:00:25.000Z',
    ...overrides,
  };
}

const answered = { agent: { userId: 'a9c1e2d3-4b5f-4a6e-8d7c-0b1a2c3d4e5f', name: 'Agent' }, alertingAt: '2026-11-23T12:00:40.000Z', answeredAt: '2026-11-23T12:00:41.000Z' };

describe('readQueueEvent (QueueConversationEventTopicConversation, as the Genesys simulator publishes it)', () => {
  it("reads the caller's number from the customer participant of a queued call (the event has no ani)", () => {
    expect(readQueueEvent(TOPIC, queueConversationEvent(call()))).toEqual({ conversationId: call().conversationId, queueId: QUEUE.id, caller: { number: '+14155550100' }, ended: false });
  });

  it('keeps the call active once an agent answers, and ends it when the caller or the agent hangs up', () => {
    expect(readQueueEvent(TOPIC, queueConversationEvent(call(answered)))?.ended).toBe(false);
    expect(readQueueEvent(TOPIC, queueConversationEvent(call({ ...answered, endedAt: '2026-11-23T12:03:00.000Z', endedBy: 'customer' })))?.ended).toBe(true);
    expect(readQueueEvent(TOPIC, queueConversationEvent(call({ ...answered, endedAt: '2026-11-23T12:03:00.000Z', endedBy: 'agent' })))?.ended).toBe(true);
    // abandoned in the queue
    expect(readQueueEvent(TOPIC, queueConversationEvent(call({ endedAt: '2026-11-23T12:01:00.000Z', endedBy: 'customer' })))?.ended).toBe(true);
  });

  it('says withheld for a caller without a phone number', () => {
    expect(readQueueEvent(TOPIC, queueConversationEvent(call({ ani: 'sip:anonymous@anonymous.invalid' })))?.caller).toBe('withheld');
  });

  it('falls back to the call leg when the participant address is missing', () => {
    const body = queueConversationEvent(call()) as { participants: Array<Record<string, unknown>> };
    delete body.participants[0].address;
    expect(readQueueEvent(TOPIC, body)?.caller).toEqual({ number: '+14155550100' });
  });

  it('reports no caller while no customer participant is in the event', () => {
    const body = queueConversationEvent(call()) as { participants: Array<Record<string, unknown>> };
    body.participants = body.participants.filter((p) => p.purpose !== 'customer');
    expect(readQueueEvent(TOPIC, body)).toEqual({ conversationId: call().conversationId, queueId: QUEUE.id, ended: false });
  });

  it('ignores other topics and bodies it cannot read, without throwing', () => {
    expect(readQueueEvent(`${TOPIC}.calls`, queueCallEvent(call()))).toBeUndefined();
    expect(readQueueEvent('channel.metadata', { message: 'WebSocket Heartbeat' })).toBeUndefined();
    expect(readQueueEvent(TOPIC, null)).toBeUndefined();
    expect(readQueueEvent(TOPIC, { id: 'bad id with spaces' })).toBeUndefined();
    expect(readQueueEvent(TOPIC, { id: 'abc', participants: 'nope' })).toEqual({ conversationId: 'abc', queueId: QUEUE.id, ended: false });
    expect(readQueueEvent(TOPIC, { id: 'abc', participants: [null, 3, { purpose: 'customer', calls: [null] }] })).toMatchObject({ caller: 'withheld' });
  });
});
