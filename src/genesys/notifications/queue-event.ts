import { callerNumber } from '../conversation-caller.js';

/** `v2.routing.queues.{id}.conversations`, the only topic this service subscribes to. */
const QUEUE_TOPIC = /^v2\.routing\.queues\.(?<queueId>[A-Za-z0-9-]{1,64})\.conversations$/;
const CONVERSATION_ID = /^[A-Za-z0-9-]{1,64}$/;
const CALLER_PURPOSES = new Set(['customer', 'external']);

export function queueTopic(queueId: string): string {
  return `v2.routing.queues.${queueId}.conversations`;
}

/** What one queue conversation event says about the call, as far as the pre-fetch cares. */
export interface QueueConversationEvent {
  conversationId: string;
  queueId: string;
  /**
   * The caller: `number` (as Genesys wrote it, without `tel:`), `withheld` (a customer participant
   * without a phone number: a SIP address, anonymous), or undefined when no customer participant
   * is in the event yet.
   */
  caller?: { number: string } | 'withheld';
  /** The caller hung up or the conversation is over: stop keeping them fresh. */
  ended: boolean;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A participant's call legs (`calls`), as objects. */
function calls(p: Json): Json[] {
  return Array.isArray(p.calls) ? p.calls.filter(isObject) : [];
}

/** Ended: the participant has an end time, or every call leg it has is disconnected. */
function hasEnded(p: Json): boolean {
  if (text(p.endTime) !== undefined) return true;
  const legs = calls(p);
  return legs.length > 0 && legs.every((c) => c.state === 'disconnected' || c.state === 'terminated');
}

/**
 * Reads a `QueueConversationEventTopicConversation` (the event body of
 * `v2.routing.queues.{id}.conversations`). Its participants carry no `ani`: the caller's number is
 * the customer participant's `address` (`tel:+1…`) or its call's `self.addressNormalized`. Undefined
 * for another topic or a body without a conversation id; never throws on unexpected shapes.
 */
export function readQueueEvent(topicName: string, eventBody: unknown): QueueConversationEvent | undefined {
  const queueId = QUEUE_TOPIC.exec(topicName)?.groups?.queueId;
  if (queueId === undefined || !isObject(eventBody)) return undefined;
  const conversationId = text(eventBody.id);
  if (conversationId === undefined || !CONVERSATION_ID.test(conversationId)) return undefined;
  const participants = Array.isArray(eventBody.participants) ? eventBody.participants.filter(isObject) : [];
  const customers = participants.filter((p) => CALLER_PURPOSES.has(text(p.purpose) ?? ''));
  const ended = (customers.length > 0 && customers.every(hasEnded)) || (participants.length > 0 && participants.every(hasEnded));
  if (customers.length === 0) return { conversationId, queueId, ended };
  const number = callerNumber({
    conversationId,
    participants: customers.map((p) => {
      const self = calls(p).map((c) => c.self).find(isObject);
      return { purpose: text(p.purpose), ani: text(p.ani) ?? text(self?.addressNormalized), address: text(p.address) };
    }),
  });
  return { conversationId, queueId, caller: number === undefined ? 'withheld' : { number }, ended };
}
