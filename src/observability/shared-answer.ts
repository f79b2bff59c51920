/**
 * Answers shared between requests, serialized once.
 *
 * A cache hit answers with an object assembled once and handed unchanged to every request that
 * follows (a view merged from fresh parts, and its custom-action form). Neither it nor anything it
 * holds ever changes once shared, so its JSON is worked out at its first answer and sent as it is
 * after; the text is kept as long as the object is (a WeakMap: dropped with the view).
 *
 * `serializeReply` is the app's reply serializer (Fastify's `setReplySerializer`): any other
 * payload is `JSON.stringify`ed per reply, as Fastify does for a route without a response schema
 * (no route of this app has one: Nest does not give Fastify response schemas).
 */

/** Shared answers, with their JSON once an answer has gone out (null until then). */
const texts = new WeakMap<object, string | null>();

/**
 * Marks `answer` as shared: frozen, and serialized once. Only for an object that, with everything
 * it holds, is never changed again (a change would not show in the answers that follow).
 */
export function shareAnswer<T extends object>(answer: T): T {
  Object.freeze(answer);
  if (!texts.has(answer)) texts.set(answer, null);
  return answer;
}

/** A reply's payload as JSON: a shared answer's text once worked out, anything else anew. */
export function serializeReply(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return JSON.stringify(payload);
  const known = texts.get(payload);
  if (known === undefined) return JSON.stringify(payload);
  if (known !== null) return known;
  const text = JSON.stringify(payload);
  texts.set(payload, text);
  return text;
}
