import { describe, expect, it } from "vitest";
import {
  BACKOFF_CAP_MS,
  backoffMs,
  decide,
  parseRateLimitReset,
  parseRetryAfter,
  serverWaitMs,
  type AttemptOutcome,
  type HttpMethod,
} from "../../src/http/retry-policy.js";

const NOW = Date.parse("2025-03-01T12:00:00Z");

describe("decide", () => {
  const cases: [HttpMethod, AttemptOutcome, string][] = [
    ["GET", { kind: "status", status: 429 }, "retry"],
    ["POST", { kind: "status", status: 429 }, "retry"],
    ["GET", { kind: "status", status: 503 }, "retry"],
    ["PATCH", { kind: "status", status: 500 }, "retry"],
    ["DELETE", { kind: "status", status: 502 }, "retry"],
    ["PUT", { kind: "status", status: 503 }, "retry"],
    ["PUT", { kind: "timeout" }, "retry"],
    ["POST", { kind: "status", status: 503, refused: true }, "retry"],
    ["POST", { kind: "status", status: 503, refused: false }, "unknown"],
    ["PUT", { kind: "status", status: 400, refused: false }, "fail"],
    ["POST", { kind: "status", status: 500 }, "unknown"],
    ["GET", { kind: "status", status: 404 }, "fail"],
    ["POST", { kind: "status", status: 400 }, "fail"],
    ["GET", { kind: "timeout" }, "retry"],
    ["POST", { kind: "timeout" }, "unknown"],
    ["GET", { kind: "connection", sent: true, transient: true }, "retry"],
    ["POST", { kind: "connection", sent: true, transient: true }, "unknown"],
    ["POST", { kind: "connection", sent: false, transient: true }, "retry"],
    ["GET", { kind: "connection", sent: true, transient: false }, "fail"],
  ];
  it.each(cases)("%s after %j: %s", (method, outcome, expected) => {
    expect(decide(method, outcome)).toBe(expected);
  });
});

describe("backoffMs", () => {
  it("is full jitter under an exponential ceiling", () => {
    expect(backoffMs(1, () => 0)).toBe(0);
    expect(backoffMs(1, () => 0.999)).toBe(499);
    expect(backoffMs(3, () => 0.5)).toBe(1000);
    expect(backoffMs(40, () => 0.999)).toBe(Math.floor(0.999 * BACKOFF_CAP_MS));
  });
});

describe("server waits", () => {
  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("7", NOW)).toBe(7000);
    expect(parseRetryAfter(new Date(NOW + 12_000).toUTCString(), NOW)).toBe(12_000);
    expect(parseRetryAfter(new Date(NOW - 12_000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter("soon", NOW)).toBeNull();
    expect(parseRetryAfter(undefined, NOW)).toBeNull();
  });

  it("reads X-RateLimit-Reset as unix seconds, or as seconds-until-reset when small", () => {
    expect(parseRateLimitReset(String(NOW / 1000 + 30), NOW)).toBe(30_000);
    expect(parseRateLimitReset("30", NOW)).toBe(30_000);
    expect(parseRateLimitReset(String(NOW / 1000 - 5), NOW)).toBe(0);
    expect(parseRateLimitReset("-1", NOW)).toBeNull();
    expect(parseRateLimitReset("", NOW)).toBeNull();
  });

  it("takes the longer of both headers, and the reset only on a 429", () => {
    expect(serverWaitMs({ retryAfter: "3", rateLimitReset: "20" }, 429, NOW)).toBe(20_000);
    expect(serverWaitMs({ retryAfter: "30", rateLimitReset: "2" }, 429, NOW)).toBe(30_000);
    expect(serverWaitMs({ rateLimitReset: "20" }, 503, NOW)).toBeNull();
    expect(serverWaitMs({ retryAfter: "4", rateLimitReset: "20" }, 503, NOW)).toBe(4000);
    expect(serverWaitMs({}, 429, NOW)).toBeNull();
  });
});
