/**
 * What the side panel's identity provider said about an agent token:
 * - accepted: a live token of this organization (and of the panel's OAuth client, when one is pinned);
 * - foreign: a live token, but of another organization or OAuth client (a policy refusal);
 * - rejected: the provider does not accept the token (unknown, expired, revoked).
 */
export type AgentVerdict = 'accepted' | 'foreign' | 'rejected';

/** The only scope an agent token carries here: the side panel reads, nothing else. */
export const AGENT_SCOPES: ReadonlySet<string> = new Set(['customer:read']);

/**
 * Port: checks an agent's opaque access token (INTERNAL_AUTH genesys-agent). Declared here, where
 * the inbound guard needs it; implemented with Genesys Cloud outside auth/ (GenesysAgentVerifier)
 * and bound by the composition root (AuthModule.forRoot).
 */
export abstract class AgentTokenVerifier {
  /** Whether `verify(token)` would be answered without asking the provider (a live verdict, or a check already running). */
  abstract knows(token: string): boolean;

  /** The verdict; rejects (with an UpstreamError) when the provider cannot say, and then nothing is remembered. */
  abstract verify(token: string): Promise<AgentVerdict>;
}
