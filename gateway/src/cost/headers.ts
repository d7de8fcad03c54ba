import type { BudgetPolicy } from './config';

/**
 * Budget headers of the IETF draft "RateLimit header fields for HTTP"
 * (draft-ietf-httpapi-ratelimit-headers), for a token bucket of cost points:
 *
 *     RateLimit-Policy: "cost";q=<capacity>;w=<seconds to refill from empty>
 *     RateLimit: "cost";r=<points left>;t=<seconds until full again>
 *
 * plus `Retry-After: <seconds until the refused operation would fit>` on 429.
 */
export const POLICY_NAME = 'cost';

/** Seconds until the bucket holds `needed` points again (0 if it already does). */
export function secondsUntil(needed: number, tokens: number, policy: BudgetPolicy): number {
  return Math.max(0, Math.ceil((Math.min(needed, policy.capacity) - tokens) / policy.refillPerSecond));
}

const policyHeaders = new WeakMap<BudgetPolicy, string>();

/** The `RateLimit-Policy` value of a budget, made once per policy. */
export function policyHeader(policy: BudgetPolicy): string {
  let header = policyHeaders.get(policy);
  if (header === undefined) policyHeaders.set(policy, (header = formatPolicy(policy)));
  return header;
}

function formatPolicy(policy: BudgetPolicy): string {
  return `"${POLICY_NAME}";q=${policy.capacity};w=${Math.ceil(policy.capacity / policy.refillPerSecond)}`;
}

export function rateLimitHeader(tokens: number, policy: BudgetPolicy): string {
  return `"${POLICY_NAME}";r=${Math.floor(tokens)};t=${secondsUntil(policy.capacity, tokens, policy)}`;
}
