/**
 * An IP-policy refusal is `403 {"error":"Forbidden"}` with no detail. The class lives in
 * observability (next to InvalidSignatureException) so the global and Genesys exception filters
 * already render it as is; re-exported here so the allowlist stays self-contained to import.
 */
export { ForbiddenPolicyException } from '../../observability/forbidden.exception.js';
