import type { ConversationParticipants } from './platform/genesys-api.client.js';

/** Purposes of the participant who is the outside party, in the order they are trusted. */
const CALLER_PURPOSES = ['customer', 'external'];

/**
 * The caller's number in a Genesys conversation: the customer participant's ANI (else its address),
 * when it is a `tel:` URI. Undefined for a withheld number, a SIP address or a conversation without
 * an outside party — the side panel then treats the caller as unidentified rather than guessing.
 */
export function callerNumber(conversation: ConversationParticipants): string | undefined {
  for (const purpose of CALLER_PURPOSES) {
    for (const participant of conversation.participants.filter((p) => p.purpose === purpose)) {
      for (const address of [participant.ani, participant.address]) {
        const match = address === undefined ? null : /^tel:(\+?[\d\s().\-/]{3,32})$/i.exec(address.trim());
        if (match) return match[1];
      }
    }
  }
  return undefined;
}
