// Fixed-window rate limiting per key (the caller's choice: an endpoint, or the whole account), with
// SendGrid's X-RateLimit-* headers (Okta's X-Rate-Limit-* on request). A window opens with the first
// request after the previous one ended. Reads the injected clock only; never answers requests.

export interface RateLimitOptions {
  readonly limit: number;
  readonly windowMs: number;
  /** "absolute": X-RateLimit-Reset is a unix time (documented); "relative": seconds until reset. */
  readonly resetStyle?: "absolute" | "relative";
  /** Add Retry-After (seconds) to 429 answers. */
  readonly retryAfter?: boolean;
  /** Header names: SendGrid's "X-RateLimit" (default) or Okta's "X-Rate-Limit". */
  readonly headerPrefix?: "X-RateLimit" | "X-Rate-Limit";
  /**
   * What one window counts: "endpoint" (default; SendGrid limits each endpoint on its own, see its "Rate
   * Limits" API reference) or "account" (one bucket for every request, the lenient variant).
   */
  readonly per?: "endpoint" | "account";
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { limit: 10_000, windowMs: 60_000 };

export interface RateDecision {
  readonly allowed: boolean;
  readonly headers: Readonly<Record<string, string>>;
}

interface Window {
  readonly startMs: number;
  count: number;
}

export class RateLimiter {
  readonly #options: RateLimitOptions;
  readonly #now: () => Date;
  readonly #windows = new Map<string, Window>();

  constructor(options: RateLimitOptions, now: () => Date) {
    if (!Number.isInteger(options.limit) || options.limit < 0)
      throw new RangeError("rateLimit.limit must be an integer >= 0");
    if (!(options.windowMs > 0)) throw new RangeError("rateLimit.windowMs must be > 0");
    this.#options = options;
    this.#now = now;
  }

  /** Counts one request against `key`'s window; a refused request does not count. */
  take(key: string): RateDecision {
    const nowMs = this.#now().getTime();
    let window = this.#windows.get(key);
    if (!window || nowMs >= window.startMs + this.#options.windowMs) {
      window = { startMs: nowMs, count: 0 };
      this.#windows.set(key, window);
    }
    const allowed = window.count < this.#options.limit;
    if (allowed) window.count++;
    const resetMs = window.startMs + this.#options.windowMs;
    const secondsLeft = Math.max(1, Math.ceil((resetMs - nowMs) / 1000));
    const prefix = this.#options.headerPrefix ?? "X-RateLimit";
    const headers: Record<string, string> = {
      [`${prefix}-Limit`]: String(this.#options.limit),
      [`${prefix}-Remaining`]: String(this.#options.limit - window.count),
      [`${prefix}-Reset`]: String(
        this.#options.resetStyle === "relative" ? secondsLeft : Math.ceil(resetMs / 1000),
      ),
    };
    if (!allowed && this.#options.retryAfter) headers["Retry-After"] = String(secondsLeft);
    return { allowed, headers };
  }
}
