// Stable failure reason codes: they are metric label values and alert rule inputs, so they never change
// meaning and are never free text.

export const REASON_CODES = [
  "bad_pem",
  "not_a_certificate",
  "http_401",
  "http_403",
  "http_404",
  "http_4xx",
  "http_5xx",
  "rate_limited",
  "timeout",
  "connection",
  "invalid_response",
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];
