/**
 * Inbound calls as the Genesys simulator knows them, and the three ways Genesys describes one:
 * the `Conversation` of `GET /api/v2/conversations/{id}`, and the event bodies of the queue
 * conversation topics of the Notifications API — `v2.routing.queues.{id}.conversations`
 * (`QueueConversationEventTopicConversation`) and `v2.routing.queues.{id}.conversations.calls`
 * (`QueueConversationCallEventTopicCallConversation`). Every shape follows the Platform SDK's
 * models (`index.d.ts`); the tests check each against them.
 *
 * A call moves through: queued (the caller, the IVR that routed them, the ACD leg waiting for an
 * agent) → alerting (an agent's phone rings) → connected (the agent answered; the ACD leg ends) →
 * ended (everyone disconnected). Pure functions: no I/O, no clock.
 */
import { createHash } from 'node:crypto';

import { type DemoConversation,HOME_DIVISION } from './genesys.data.js';

/** One inbound call and the moments it went through (ISO-8601 times). */
export interface InboundCall {
  conversationId: string;
  /** The caller: `tel:+E164`, or a SIP URI for a withheld number. */
  ani: string;
  /** The number dialled (`tel:+E164`). */
  dnis: string;
  queue: { id: string; name: string };
  /** The caller connected; the IVR took the call. */
  startTime: string;
  /** The IVR handed the call to the queue (the ACD leg starts). */
  queuedAt: string;
  /** The agent routed to, once one is. */
  agent?: { userId: string; name: string };
  /** The agent's phone started ringing. */
  alertingAt?: string;
  /** The agent answered. */
  answeredAt?: string;
  endedAt?: string;
  /** Who hung up. */
  endedBy?: 'customer' | 'agent';
}

export type CallPhase = 'queued' | 'alerting' | 'connected' | 'ended';

export function callPhase(call: InboundCall): CallPhase {
  if (call.endedAt !== undefined) return 'ended';
  if (call.answeredAt !== undefined) return 'connected';
  if (call.alertingAt !== undefined) return 'alerting';
  return 'queued';
}

/** Stable ids derived from the conversation id, so the same call always looks the same. */
export function derivedId(conversationId: string, role: string): string {
  const h = createHash('sha1').update(`${conversationId}:${role}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function later(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

/** How long the seeded calls spent in the IVR, and then in the queue, before an agent answered. */
const DEMO_IVR_SECONDS = 25;
const DEMO_QUEUE_SECONDS = 15;
const DEMO_AGENT_NAME = 'Sandbox Agent';

/** A seeded conversation (a call an agent has now) as an inbound call. */
export function demoCall(c: DemoConversation, queue: { id: string; name: string }): InboundCall {
  const queuedAt = later(c.startTime, DEMO_IVR_SECONDS);
  const answeredAt = later(queuedAt, DEMO_QUEUE_SECONDS);
  return {
    conversationId: c.conversationId,
    ani: c.ani,
    dnis: c.dnis,
    queue,
    startTime: c.startTime,
    queuedAt,
    agent: { userId: derivedId(c.conversationId, 'user'), name: DEMO_AGENT_NAME },
    alertingAt: answeredAt,
    answeredAt,
  };
}

/** A number as the desktop shows it (the raw address without its URI scheme). */
function raw(address: string): string {
  return address.replace(/^(tel|sip):/, '');
}

const address = (a: string) => ({ nameRaw: '', addressNormalized: a, addressRaw: raw(a), addressDisplayable: raw(a) });
const EMPTY_MEDIA = { callbacks: [], chats: [], cobrowsesessions: [], emails: [], messages: [], screenshares: [], socialExpressions: [], videos: [] };

type Role = 'customer' | 'ivr' | 'acd' | 'agent';

/** One leg of the call, independent of how a model spells it. */
interface Leg {
  role: Role;
  name: string;
  /** Internal legs belong to the org; the caller is External. */
  external: boolean;
  self: string;
  other: string;
  startTime: string;
  connectedTime?: string;
  endTime?: string;
  state: 'alerting' | 'connected' | 'disconnected';
  initialState: 'alerting' | 'connected';
  disconnectType?: string;
  user?: { id: string; name: string };
  queue?: { id: string; name: string };
}

/** Why a leg ended: handed on (IVR → queue → agent), hung up itself, or left by the other party. */
function endReason(call: InboundCall, role: Role): string {
  if (role === 'ivr' || (role === 'acd' && call.answeredAt !== undefined)) return 'transfer';
  const hungUp = call.endedBy === 'agent' ? 'agent' : 'customer';
  if (role === hungUp) return hungUp === 'agent' ? 'client' : 'endpoint';
  return 'peer';
}

/** The call's legs at its current phase, in the order Genesys lists participants. */
function legs(call: InboundCall): Leg[] {
  const end = call.endedAt;
  const agentSip = call.agent ? `sip:${call.agent.userId}@localhost` : '';
  const out: Leg[] = [];
  const leg = (l: Omit<Leg, 'state' | 'disconnectType'> & { until?: string }): void => {
    const { until, ...rest } = l;
    const ended = until ?? end;
    if (ended !== undefined) out.push({ ...rest, endTime: ended, state: 'disconnected', disconnectType: endReason(call, l.role) });
    else out.push({ ...rest, state: l.connectedTime === undefined ? 'alerting' : 'connected' });
  };
  leg({ role: 'customer', name: 'Caller', external: true, self: call.ani, other: call.dnis, startTime: call.startTime, connectedTime: call.startTime, initialState: 'connected' });
  leg({ role: 'ivr', name: `${call.queue.name} IVR`, external: false, self: call.dnis, other: call.ani, startTime: call.startTime, connectedTime: call.startTime, initialState: 'connected', until: call.queuedAt });
  leg({ role: 'acd', name: call.queue.name, external: false, self: call.dnis, other: call.ani, startTime: call.queuedAt, connectedTime: call.queuedAt, initialState: 'connected', queue: call.queue, until: call.answeredAt });
  if (call.agent && call.alertingAt !== undefined) {
    const user = { id: call.agent.userId, name: call.agent.name };
    leg({ role: 'agent', name: call.agent.name, external: false, self: agentSip, other: call.ani, startTime: call.alertingAt, connectedTime: call.answeredAt, initialState: 'alerting', user, queue: call.queue });
  }
  return out;
}

function divisions(call: InboundCall) {
  const entities = call.agent && call.answeredAt !== undefined ? [{ id: call.agent.userId, selfUri: `/api/v2/users/${call.agent.userId}` }] : [];
  return [{ division: { id: HOME_DIVISION.id, selfUri: `/api/v2/authorization/divisions/${HOME_DIVISION.id}` }, entities }];
}

/** The call media of one leg, as the Conversation and the conversation topic both describe it. */
function callMedia(call: InboundCall, l: Leg, topic: boolean): Record<string, unknown> {
  return {
    state: l.state,
    id: derivedId(call.conversationId, `call:${l.role}`),
    ...(topic ? { initialState: l.initialState } : {}),
    direction: 'inbound',
    recording: false,
    recordingState: 'none',
    muted: false,
    confined: false,
    held: false,
    securePause: false,
    self: address(l.self),
    other: address(l.other),
    provider: 'Edge',
    ...(l.connectedTime !== undefined ? { connectedTime: l.connectedTime } : {}),
    ...(l.endTime !== undefined ? { disconnectedTime: l.endTime, disconnectType: l.disconnectType } : {}),
  };
}

/**
 * The `Conversation` of `GET /api/v2/conversations/{id}`: the caller (purpose "customer",
 * ani/address `tel:+E164`), the IVR and ACD legs that routed it, and the agent once one is ringing.
 */
export function conversationBody(call: InboundCall): Record<string, unknown> {
  const id = call.conversationId;
  const participants = legs(call).map((l) => ({
    id: derivedId(id, l.role),
    wrapupRequired: l.role === 'agent',
    attributes: {},
    ...EMPTY_MEDIA,
    evaluations: [],
    startTime: l.startTime,
    ...(l.endTime !== undefined ? { endTime: l.endTime } : {}),
    ...(l.connectedTime !== undefined ? { connectedTime: l.connectedTime } : {}),
    name: l.name,
    ...(l.user ? { userUri: `/api/v2/users/${l.user.id}`, userId: l.user.id } : {}),
    ...(l.queue ? { queueId: l.queue.id } : {}),
    ...(l.role === 'acd' ? { queueName: l.name } : {}),
    purpose: l.role,
    participantType: l.external ? 'External' : 'Internal',
    address: l.self,
    ani: call.ani,
    dnis: call.dnis,
    ...(l.role === 'agent' ? { alertingTimeoutMs: 8000 } : {}),
    calls: [callMedia(call, l, false)],
  }));
  return {
    id,
    startTime: call.startTime,
    ...(call.endedAt !== undefined ? { endTime: call.endedAt } : {}),
    address: call.dnis,
    participants,
    recordingState: 'NONE',
    state: call.endedAt !== undefined ? 'disconnected' : 'connected',
    divisions: divisions(call),
    selfUri: `/api/v2/conversations/${id}`,
  };
}

/**
 * The event body of `v2.routing.queues.{id}.conversations` (`QueueConversationEventTopicConversation`).
 * Its participants carry no `ani` property: the caller's number is the customer participant's
 * `address` and its call's `self.addressNormalized`.
 */
export function queueConversationEvent(call: InboundCall): Record<string, unknown> {
  const participants = legs(call).map((l) => ({
    id: derivedId(call.conversationId, l.role),
    ...(l.connectedTime !== undefined ? { connectedTime: l.connectedTime } : {}),
    ...(l.endTime !== undefined ? { endTime: l.endTime } : {}),
    ...(l.user ? { userId: l.user.id } : {}),
    name: l.name,
    ...(l.queue ? { queueId: l.queue.id } : {}),
    purpose: l.role,
    address: l.self,
    wrapupRequired: l.role === 'agent',
    ...(l.role === 'agent' ? { wrapupExpected: true, alertingTimeoutMs: 8000 } : {}),
    attributes: {},
    calls: [callMedia(call, l, true)],
    ...EMPTY_MEDIA,
  }));
  return { id: call.conversationId, participants, address: call.dnis, securePause: false, divisions: divisions(call) };
}

/**
 * The event body of `v2.routing.queues.{id}.conversations.calls`
 * (`QueueConversationCallEventTopicCallConversation`): one flat participant per call leg, each with
 * the call's `ani` and `dnis`.
 */
export function queueCallEvent(call: InboundCall): Record<string, unknown> {
  const participants = legs(call).map((l) => ({
    id: derivedId(call.conversationId, l.role),
    name: l.name,
    address: l.self,
    startTime: l.startTime,
    ...(l.connectedTime !== undefined ? { connectedTime: l.connectedTime } : {}),
    ...(l.endTime !== undefined ? { endTime: l.endTime } : {}),
    purpose: l.role,
    state: l.state,
    initialState: l.initialState,
    direction: 'inbound',
    ...(l.disconnectType !== undefined ? { disconnectType: l.disconnectType } : {}),
    held: false,
    wrapupRequired: l.role === 'agent',
    ...(l.user ? { user: l.user } : {}),
    ...(l.queue ? { queue: l.queue } : {}),
    attributes: {},
    ...(l.role === 'agent' ? { alertingTimeoutMs: 8000 } : {}),
    provider: 'Edge',
    muted: false,
    confined: false,
    recording: false,
    recordingState: 'none',
    securePause: false,
    ani: call.ani,
    dnis: call.dnis,
  }));
  return { id: call.conversationId, participants, otherMediaUris: [], address: call.dnis, divisions: divisions(call), securePause: false };
}
