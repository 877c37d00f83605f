// When the transport retries, and how long it waits: pure functions of the method, what one attempt
// produced, the response headers, the clock value and a random number. Never sleeps or does I/O; the
// transport (transport.ts) carries out what these decide.

export const BACKOFF_BASE_MS = 500;
/** The longest single backoff; also the slack the default deadline leaves for waiting. */
export const BACKOFF_CAP_MS = 30_000;
/**
 * The longest wait a server may impose (Retry-After, a 429's rate-limit reset): a far value, hostile or
 * mistaken (Retry-After: 315360000), would otherwise hold every call of the account until a restart.
 * Longer than any rate-limit window of SendGrid, Okta or Graph (a minute to an hour).
 */
export const SERVER_WAIT_CAP_MS = 15 * 60_000;
/** Below this, a rate-limit reset header is seconds-until-reset, not a unix time (10^9 s is September 2001). */
const ABSOLUTE_RESET_MIN = 1_000_000_000;

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What one attempt came to, short of a usable 2xx answer. */
export type AttemptOutcome =
  /** `refused`: the API's dialect says this answer means nothing was processed (a throttling 503, say). */
  | { readonly kind: "status"; readonly status: number; readonly refused?: boolean }
  | { readonly kind: "timeout" }
  /** `sent: false` only when the request certainly never left (refused, DNS, connect timeout). */
  | { readonly kind: "connection"; readonly sent: boolean; readonly transient: boolean };

/** retry: try again; fail: give up with this outcome; unknown: a POST that may have been processed. */
export type Decision = "retry" | "fail" | "unknown";

export function decide(method: HttpMethod, outcome: AttemptOutcome): Decision {
  // GET, PUT, PATCH and DELETE set a state, so repeating them is harmless; a repeated POST uploads twice.
  const idempotent = method !== "POST";
  switch (outcome.kind) {
    case "status":
      // 429 means the request was refused before any processing, whatever the method.
      if (outcome.status === 429 || outcome.refused === true) return "retry";
      if (outcome.status >= 500) return idempotent ? "retry" : "unknown";
      return "fail";
    case "timeout":
      return idempotent ? "retry" : "unknown";
    case "connection":
      if (!outcome.transient) return "fail";
      return idempotent || !outcome.sent ? "retry" : "unknown";
  }
}

/** Full jitter: uniform in [0, min(cap, base * 2^(retry-1))). `retry` counts from 1. */
export function backoffMs(retry: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After`: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** `X-RateLimit-Reset` (SendGrid) or `X-Rate-Limit-Reset` (Okta): unix seconds as documented, or seconds-until-reset when the number is small. */
export function parseRateLimitReset(value: string | undefined, nowMs: number): number | null {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return null;
  const seconds = Number(value.trim());
  return seconds < ABSOLUTE_RESET_MIN
    ? Math.ceil(seconds * 1000)
    : Math.max(0, Math.ceil(seconds * 1000 - nowMs));
}

/**
 * The wait the server asks for (the longer of its two headers, at most SERVER_WAIT_CAP_MS), or null when
 * it asks for none.
 */
export function serverWaitMs(
  headers: { readonly retryAfter?: string; readonly rateLimitReset?: string },
  status: number,
  nowMs: number,
): number | null {
  const retryAfter = parseRetryAfter(headers.retryAfter, nowMs);
  // The reset time says when the window refills; it is a wait request only on a 429.
  const reset = status === 429 ? parseRateLimitReset(headers.rateLimitReset, nowMs) : null;
  if (retryAfter === null && reset === null) return null;
  return Math.min(SERVER_WAIT_CAP_MS, Math.max(retryAfter ?? 0, reset ?? 0));
}
