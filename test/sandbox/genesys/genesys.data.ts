/**
 * Static Genesys Cloud data the simulator serves. Genesys holds no customer records of ours: the
 * "seed" is the public IP-range list (`GET /api/v2/ipranges`) that a service uses to allow Data
 * Action traffic, plus the loopback ranges so sandbox calls from 127.0.0.1 / ::1 are allowed, and
 * a few live calls whose callers are demo customers (for the side panel's conversation look-up),
 * and the agent who signs in to the side panel.
 */
import { DEMO, demoCustomer } from '../shared/seed.js';

export interface GenesysIpRange {
  cidr: string;
  service: string;
  region: string;
  direction: 'inbound' | 'outbound';
}

export const DEFAULT_IP_RANGES: readonly GenesysIpRange[] = Object.freeze([
  { cidr: '52.129.96.0/20', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '169.150.104.0/21', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '167.234.48.0/20', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '2600:1f18:4b8d:6a00::/56', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '3.122.188.0/24', service: 'data-actions', region: 'eu-central-1', direction: 'outbound' },
  { cidr: '52.129.96.0/21', service: 'smtp', region: 'us-east-1', direction: 'outbound' },
  { cidr: '34.231.240.0/24', service: 'audiohook', region: 'us-east-1', direction: 'outbound' },
  { cidr: '52.129.104.0/22', service: 'api', region: 'us-east-1', direction: 'inbound' },
  // sandbox only: the simulators and the service run on loopback
  { cidr: '127.0.0.1/32', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '::1/128', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
]);

/** A call waiting for or talking to an agent, as `GET /api/v2/conversations/{id}` describes it. */
export interface DemoConversation {
  conversationId: string;
  /** The caller as Genesys reports it: `tel:+E164`, or a SIP URI for a withheld number. */
  ani: string;
  /** The number the customer dialled. */
  dnis: string;
  startTime: string;
}

const DNIS = 'tel:+18005550199';

/**
 * Interactions the sandbox knows, for the side panel's `gcConversationId` path: callers who are
 * demo customers (by their seeded phone numbers), an unknown number, and a withheld one.
 */
export const DEMO_CONVERSATIONS: readonly DemoConversation[] = Object.freeze([
  { conversationId: '5b1f3c2e-8a4d-4e61-9b7a-2f0c1d3e4a01', ani: `tel:${demoCustomer(DEMO.healthy).phone}`, dnis: DNIS, startTime: '2026-11-01T12:00:00.000Z' },
  { conversationId: '5b1f3c2e-8a4d-4e61-9b7a-2f0c1d3e4a02', ani: `tel:${demoCustomer(DEMO.apostrophe).phone}`, dnis: DNIS, startTime: '2026-11-01T12:01:00.000Z' },
  { conversationId: '5b1f3c2e-8a4d-4e61-9b7a-2f0c1d3e4a03', ani: 'tel:+14155559999', dnis: DNIS, startTime: '2026-11-01T12:02:00.000Z' },
  { conversationId: '5b1f3c2e-8a4d-4e61-9b7a-2f0c1d3e4a04', ani: 'sip:anonymous@anonymous.invalid', dnis: DNIS, startTime: '2026-11-01T12:03:00.000Z' },
]);

/** Well-known demo interactions, named for what they exercise. */
export const DEMO_CONVERSATION = {
  healthyCaller: DEMO_CONVERSATIONS[0].conversationId,
  apostropheCaller: DEMO_CONVERSATIONS[1].conversationId,
  unknownCaller: DEMO_CONVERSATIONS[2].conversationId,
  withheldNumber: DEMO_CONVERSATIONS[3].conversationId,
} as const;

/** The agent the simulated login host signs in: every authorization request is approved as this user, of the demo org. */
export const DEMO_AGENT = Object.freeze({ id: 'a9c1e2d3-4b5f-4a6e-8d7c-0b1a2c3d4e5f', name: 'Sandbox Agent', organizationName: 'Customer 360 Sandbox' });

/** The org's home division, which every sandbox queue and call belongs to. */
export const HOME_DIVISION = Object.freeze({ id: 'f4199602-9340-40cc-ad61-4366269477c2', name: 'Home' });

/** A routing queue as `GET /api/v2/routing/queues` lists it (the fields the sandbox fills of the SDK's `Queue`). */
export interface SandboxQueue {
  id: string;
  name: string;
  description: string;
  dateCreated: string;
  memberCount: number;
  joinedMemberCount: number;
}

/**
 * The org's queues: calls can be placed into them (`/__sim/inbound-calls`) and a notification
 * channel can subscribe to their conversation topics. "Customer Care" is the queue the seeded
 * conversations came through.
 */
export const SANDBOX_QUEUES: readonly SandboxQueue[] = Object.freeze([
  { id: '702bb2cd-714b-4a56-aecc-e2cd54414922', name: 'Customer Care', description: 'Inbound calls from the main number', dateCreated: '2026-01-05T10:00:00.000Z', memberCount: 12, joinedMemberCount: 9 },
  { id: '3e0c8f4a-6b1d-4c2e-9f7a-5d8b2a1c0e01', name: 'Billing', description: 'Invoices, balances and payment plans', dateCreated: '2026-01-05T10:05:00.000Z', memberCount: 6, joinedMemberCount: 4 },
  { id: '3e0c8f4a-6b1d-4c2e-9f7a-5d8b2a1c0e02', name: 'Technical Support', description: 'Incidents and outages', dateCreated: '2026-01-05T10:10:00.000Z', memberCount: 8, joinedMemberCount: 5 },
  { id: '3e0c8f4a-6b1d-4c2e-9f7a-5d8b2a1c0e03', name: 'VIP Line', description: 'Priority customers', dateCreated: '2026-02-11T08:30:00.000Z', memberCount: 3, joinedMemberCount: 2 },
]);

/** Well-known queues, named for what they are. */
export const SANDBOX_QUEUE = {
  customerCare: SANDBOX_QUEUES[0].id,
  billing: SANDBOX_QUEUES[1].id,
  technicalSupport: SANDBOX_QUEUES[2].id,
  vip: SANDBOX_QUEUES[3].id,
} as const;
