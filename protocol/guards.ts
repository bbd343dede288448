// Narrowing guards for untrusted input (JWT claims, JSON payloads, HTTP bodies): `unknown` until checked.

/** A plain object (not null, not an array): the shape of JWT claims, JWKS documents and envelopes. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
