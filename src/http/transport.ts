// The JSON-over-HTTP transport every API client runs on (SendGrid, Okta, Graph): per-attempt timeouts,
// retries with full jitter and the server's waits (a 429 holds every call of this transport until the
// reset), a concurrency bound, a body size cap, response validation through a zod schema, one observer
// event per attempt, and at most one credential refresh per call. What differs per API (auth headers,
// rate-limit header names, error bodies and classes) is the Dialect's. Knows no endpoint. Never retries
// a POST that may have been processed, never puts a secret in an error, never reports a raw id route.

import type { IncomingHttpHeaders } from "node:http";
import { setMaxListeners } from "node:events";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import type { ReasonCode } from "../core/reasons.js";
import { ApiError, reasonForStatus, type ApiErrorInit, type ApiErrorKind } from "./errors.js";
import {
  BACKOFF_CAP_MS,
  backoffMs,
  decide,
  serverWaitMs,
  type AttemptOutcome,
  type HttpMethod,
} from "./retry-policy.js";
import { Pool, request } from "./undici.js";
import { Semaphore } from "./semaphore.js";
import { safeParseInTurns } from "./parse-in-turns.js";
import { describeIssues } from "./zod-issues.js";

export type { HttpMethod } from "./retry-policy.js";

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
const USER_AGENT = "sendgrid-sso-certs";

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The headers that authenticate one attempt, and the secret values among them. */
export interface Authorization {
  readonly headers: Readonly<Record<string, string>>;
  /** Kept out of every error, message and cause of the call (empty strings are ignored). */
  readonly secrets: readonly string[];
}

/** An error answer as the dialect sees it; `text` is already redacted. */
export interface ErrorAnswer {
  readonly method: HttpMethod;
  readonly status: number;
  readonly text: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * What one API does its own way. `B` is its error body as parsed (SendGrid's message list, Okta's error
 * object, Graph's `error`); it reaches the API's error class through `createError`.
 */
export interface Dialect<E extends ApiError, B> {
  /**
   * Called before every attempt, so a key file or a token cache is read afresh. `refresh`: the previous
   * attempt's credential was refused as expired (see `credentialExpired`); fetch a new one. May reject
   * with the API's own error (a failed token request), which the call then rejects with.
   */
  authorize(refresh: boolean): Authorization | Promise<Authorization>;
  /** Lower-case names of the remaining-calls and reset headers; null when the API sends none. */
  readonly rateLimitHeaders: { readonly remaining: string; readonly reset: string } | null;
  /** Reads an error body; never throws (an unreadable body is the dialect's "nothing said"). */
  parseError(answer: ErrorAnswer): B;
  /** The API's own words for the message, or null when the body says nothing usable. */
  describeError(body: B): string | null;
  /** True when this 401 says the credential expired: the call re-authorizes once and tries again. */
  credentialExpired?(answer: ErrorAnswer, body: B): boolean;
  /** True when this answer (beyond a 429) means nothing was processed, so even a POST may be retried. */
  refusedUnprocessed?(answer: ErrorAnswer, body: B): boolean;
  /** The API's error class; `body` is null when there was no error answer (timeouts, closes, 2xx). */
  createError(init: ApiErrorInit, body: B | null): E;
}

export interface TransportOptions<E extends ApiError, B> extends TransportSettings {
  /** The `account` label of metrics and observer events. */
  account: string;
  /** e.g. https://api.sendgrid.com; a path prefix is kept. */
  baseUrl: string;
  dialect: Dialect<E, B>;
}

/** What an API client hands its transport unchanged. */
export interface TransportSettings {
  /** Per attempt, body included. */
  timeoutMs: number;
  maxRetries: number;
  /** Requests in flight through this transport. */
  maxConcurrency: number;
  /** Total per call, retries and waits included. Default timeoutMs * (maxRetries + 1) + the backoff cap. */
  deadlineMs?: number;
  observer?: RequestObserver;
  /** Deadlines and waits; attempt timeouts run on real timers because they bound real sockets. */
  clock?: Clock;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Longer response bodies fail as invalid_response. Default 8 MiB. */
  maxBodyBytes?: number;
}

export interface RequestEvent {
  account: string;
  method: string;
  route: string;
  /** null: no answer. */
  status: number | null;
  durationSeconds: number;
  rateLimitRemaining: number | null;
  attempt: number;
}

/** Called once per attempt, synchronously; it must not throw. */
export interface RequestObserver {
  onRequest(event: RequestEvent): void;
  /** A 429 holds every call of `account` until `until` (the server's wait, capped): metrics, status page. */
  onHold?(event: { readonly account: string; readonly until: Date }): void;
}

export interface RequestSpec<T> {
  readonly method: HttpMethod;
  /** Templated: `/v3/sso/integrations/:id/certificates`. It labels metrics and errors. */
  readonly route: string;
  /** Values for the route's `:name` segments; URL-encoded here. */
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent form-encoded instead of `body` (an OAuth token request). */
  readonly form?: Readonly<Record<string, string>>;
  /** A POST that is safe to repeat (a token request): retried like a PUT, never outcome_unknown. */
  readonly repeatable?: boolean;
  /** Validates the 2xx body (undefined when empty) and maps it to the domain. */
  readonly schema: z.ZodType<T>;
}

const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
};

/**
 * Every attempt in flight listens for close() on this one signal: as many listeners as max_concurrency
 * plus sleeping retries, which Node would report as a listener leak past its default of 10.
 */
function closingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

// Connection failures that say nothing of the request having been sent.
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
const SENT_TRANSIENT_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT", "UND_ERR_SOCKET"]);
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** One attempt that did not end in a usable 2xx answer. */
interface AttemptFailure<B> {
  readonly outcome: AttemptOutcome;
  readonly kind: "http" | "timeout" | "connection";
  readonly status: number | null;
  readonly reason: ReasonCode;
  readonly retryable: boolean;
  readonly detail: string;
  /** The parsed error body; null when there was no answer. */
  readonly body: B | null;
  readonly cause?: Error;
  /** What the server asked to wait before the next attempt. */
  readonly serverWaitMs: number | null;
  /** A 401 the dialect reads as an expired credential. */
  readonly credentialExpired: boolean;
}

type AttemptResult<B> =
  | { readonly ok: true; readonly status: number; readonly text: string }
  | { readonly ok: false; readonly failure: AttemptFailure<B> };

interface OutgoingBody {
  readonly text: string;
  readonly type: "application/json" | "application/x-www-form-urlencoded";
}

/** What one call knows while it runs: the labels of its errors and the secrets to keep out of them. */
interface CallContext {
  readonly method: HttpMethod;
  readonly route: string;
  readonly deadlineAt: number;
  readonly secrets: Set<string>;
}

export class JsonTransport<E extends ApiError, B> {
  private readonly options: TransportOptions<E, B>;
  private readonly dialect: Dialect<E, B>;
  private readonly pool: Pool;
  private readonly pathPrefix: string;
  private readonly semaphore: Semaphore;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly deadlineMs: number;
  private readonly maxBodyBytes: number;
  private readonly remaining = new Map<string, number>();
  /** Clock time before which no attempt is sent: the reset of the window the last 429 exhausted. */
  private rateLimitedUntil = 0;
  private readonly closing = closingController();
  private closed: Promise<void> | null = null;

  constructor(options: TransportOptions<E, B>) {
    const base = new URL(options.baseUrl);
    this.options = options;
    this.dialect = options.dialect;
    this.pathPrefix = base.pathname.replace(/\/+$/, "");
    this.semaphore = new Semaphore(options.maxConcurrency);
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.deadlineMs = options.deadlineMs ?? options.timeoutMs * (options.maxRetries + 1) + BACKOFF_CAP_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.pool = new Pool(base.origin, {
      connections: options.maxConcurrency,
      connect: { timeout: options.timeoutMs },
      // Backstops only: the per-attempt abort timer is what bounds a trickling body.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** The latest rate-limit remaining count per templated route. */
  rateLimitRemaining(): ReadonlyMap<string, number> {
    return new Map(this.remaining);
  }

  /** Aborts waits and requests in flight (a POST among them ends as outcome_unknown), then closes the sockets. */
  close(): Promise<void> {
    this.closing.abort();
    return (this.closed ??= this.pool.close());
  }

  async request<T>(spec: RequestSpec<T>): Promise<T> {
    const call: CallContext = {
      method: spec.method,
      route: spec.route,
      deadlineAt: this.clock.now() + this.deadlineMs,
      secrets: new Set(),
    };
    const path = this.pathPrefix + fillRoute(spec.route, spec.params ?? {}) + queryString(spec.query ?? {});
    const body: OutgoingBody | undefined = spec.form
      ? { text: new URLSearchParams(spec.form).toString(), type: "application/x-www-form-urlencoded" }
      : spec.body === undefined
        ? undefined
        : { text: JSON.stringify(spec.body), type: "application/json" };
    // decide() asks only whether the method may be repeated.
    const policyMethod: HttpMethod = spec.repeatable === true ? "PUT" : spec.method;

    // `retries` counts the waits the retry budget pays for; the one re-authorization is not among them.
    let retries = 0;
    let refresh = false;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (this.closing.signal.aborted) throw this.closedError(call, attempt - 1, false);
      const authorizeFresh = refresh;
      const result = await this.semaphore.run(async () => {
        await this.untilRateLimitResets(call, attempt);
        return this.attempt(call, path, body, attempt, authorizeFresh);
      });
      if (result.ok) {
        // The slot is free. Answers arrive together (eight calls sent together come back together); the
        // body is parsed and validated in a turn of its own, so that the other answers are read and the
        // next requests of their slots sent first, not after every answer's parse (docs/performance.md).
        await nextTurn();
        return await this.validate(call, spec.schema, result, attempt);
      }

      const failure = result.failure;
      if (failure.credentialExpired && !refreshed) {
        refresh = refreshed = true;
        continue;
      }
      refresh = false;
      const asked = failure.serverWaitMs;
      // The window is the transport's, not this call's: every other call holds off until it resets too.
      if (failure.status === 429 && asked !== null && asked > 0) {
        this.rateLimitedUntil = Math.max(this.rateLimitedUntil, this.clock.now() + asked);
        this.options.observer?.onHold?.({
          account: this.options.account,
          until: new Date(this.rateLimitedUntil),
        });
      }
      const decision = decide(policyMethod, failure.outcome);
      if (decision === "unknown") throw this.outcomeUnknown(call, failure, attempt);
      if (decision === "fail" || retries >= this.options.maxRetries)
        throw this.fromFailure(call, failure, attempt);
      retries++;

      const wait = asked !== null && asked > 0 ? asked : backoffMs(retries, this.random);
      const left = call.deadlineAt - this.clock.now();
      if (wait >= left) throw this.deadlineError(call, failure, attempt, wait, asked !== null && asked > 0);
      try {
        await this.clock.sleep(wait, this.closing.signal);
      } catch (err) {
        if (this.closing.signal.aborted) throw this.closedError(call, attempt, false);
        throw err;
      }
    }
  }

  /**
   * Holds an attempt, inside its concurrency slot, until the rate-limit window a 429 announced has reset:
   * checked before the slot, calls queued behind the semaphore would all fire into the exhausted window.
   */
  private async untilRateLimitResets(call: CallContext, attempt: number): Promise<void> {
    const waitMs = this.rateLimitedUntil - this.clock.now();
    if (waitMs <= 0) return;
    if (waitMs >= call.deadlineAt - this.clock.now()) {
      throw this.newError(call, attempt - 1, {
        kind: "deadline",
        status: 429,
        reason: "rate_limited",
        retryable: true,
        detail: `the rate limit resets in ${waitMs} ms, beyond what is left of the ${this.deadlineMs} ms deadline`,
      });
    }
    try {
      await this.clock.sleep(waitMs, this.closing.signal);
    } catch (err) {
      if (this.closing.signal.aborted) throw this.closedError(call, attempt - 1, false);
      throw err;
    }
  }

  private async attempt(
    call: CallContext,
    path: string,
    body: OutgoingBody | undefined,
    attempt: number,
    refresh: boolean,
  ): Promise<AttemptResult<B>> {
    const authorization = await this.dialect.authorize(refresh);
    for (const secret of authorization.secrets) if (secret) call.secrets.add(secret);
    // Timed from here, after the semaphore and the credential: waiting for those is no fault of the server.
    const timeoutMs = Math.max(0, Math.min(this.options.timeoutMs, call.deadlineAt - this.clock.now()));
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
      ...authorization.headers,
    };
    if (body !== undefined) headers["content-type"] = body.type;

    // One signal for both ends of an attempt; AbortSignal.any would tie a listener per request to the
    // transport-long closing signal.
    const abort = new AbortController();
    let timedOut = false;
    const handle = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    const onClose = () => abort.abort();
    this.closing.signal.addEventListener("abort", onClose, { once: true });
    if (this.closing.signal.aborted) abort.abort();
    const started = this.clock.now();
    let answer: Dispatcher.ResponseData | null = null;
    try {
      answer = await request(this.pool, {
        method: call.method,
        path,
        headers,
        body: body?.text ?? null,
        signal: abort.signal,
      });
      const text = await readCapped(answer.body, this.maxBodyBytes);
      this.report(call, attempt, started, answer.statusCode, answer.headers);
      if (text === null) {
        throw this.newError(call, attempt, {
          kind: "invalid_response",
          status: answer.statusCode,
          reason: "invalid_response",
          retryable: false,
          detail: `response body larger than ${this.maxBodyBytes} bytes`,
        });
      }
      if (answer.statusCode >= 200 && answer.statusCode < 300)
        return { ok: true, status: answer.statusCode, text };
      return { ok: false, failure: this.httpFailure(call, answer, redactWith(call)(text)) };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // An answer whose body was cut off is no answer: the observer sees status null.
      this.report(call, attempt, started, null, answer?.headers);
      if (this.closing.signal.aborted) throw this.closedError(call, attempt, true);
      return { ok: false, failure: this.transportFailure(call, err, timedOut, timeoutMs) };
    } finally {
      clearTimeout(handle);
      this.closing.signal.removeEventListener("abort", onClose);
    }
  }

  private report(
    call: CallContext,
    attempt: number,
    started: number,
    status: number | null,
    headers: IncomingHttpHeaders | undefined,
  ): void {
    const names = this.dialect.rateLimitHeaders;
    const remaining = headers && names ? numericHeader(headers[names.remaining]) : null;
    if (remaining !== null) this.remaining.set(call.route, remaining);
    this.options.observer?.onRequest({
      account: this.options.account,
      method: call.method,
      route: call.route,
      status,
      durationSeconds: Math.max(0, this.clock.now() - started) / 1000,
      rateLimitRemaining: remaining,
      attempt,
    });
  }

  private httpFailure(call: CallContext, response: Dispatcher.ResponseData, text: string): AttemptFailure<B> {
    const status = response.statusCode;
    const answer: ErrorAnswer = { method: call.method, status, text, headers: response.headers };
    const body = this.dialect.parseError(answer);
    const resetHeader = this.dialect.rateLimitHeaders?.reset;
    return {
      outcome: {
        kind: "status",
        status,
        refused: this.dialect.refusedUnprocessed?.(answer, body) ?? false,
      },
      kind: "http",
      status,
      reason: reasonForStatus(status),
      retryable: status === 429 || status >= 500,
      detail: this.dialect.describeError(body) ?? describeOpaqueBody(text, response.headers["content-type"]),
      body,
      serverWaitMs: serverWaitMs(
        {
          retryAfter: firstHeader(response.headers["retry-after"]),
          rateLimitReset: resetHeader ? firstHeader(response.headers[resetHeader]) : undefined,
        },
        status,
        this.clock.now(),
      ),
      credentialExpired: status === 401 && (this.dialect.credentialExpired?.(answer, body) ?? false),
    };
  }

  private transportFailure(
    call: CallContext,
    err: unknown,
    timedOut: boolean,
    timeoutMs: number,
  ): AttemptFailure<B> {
    const code = errorCode(err);
    const cause = sanitizedCause(err, redactWith(call));
    if (timedOut || TIMEOUT_CODES.has(code)) {
      return {
        outcome: { kind: "timeout" },
        kind: "timeout",
        status: null,
        reason: "timeout",
        retryable: true,
        detail: `no complete answer within ${timeoutMs} ms`,
        body: null,
        cause,
        serverWaitMs: null,
        credentialExpired: false,
      };
    }
    const sent = !NOT_SENT_CODES.has(code);
    const transient = !sent || SENT_TRANSIENT_CODES.has(code);
    return {
      outcome: { kind: "connection", sent, transient },
      kind: "connection",
      status: null,
      reason: "connection",
      retryable: transient,
      detail: `connection failed${code ? ` (${code})` : ""}: ${cause.message}`,
      body: null,
      cause,
      serverWaitMs: null,
      credentialExpired: false,
    };
  }

  private async validate<T>(
    call: CallContext,
    schema: z.ZodType<T>,
    result: { status: number; text: string },
    attempt: number,
  ): Promise<T> {
    const invalid = (detail: string) =>
      this.newError(call, attempt, {
        kind: "invalid_response",
        status: result.status,
        reason: "invalid_response",
        retryable: false,
        detail: `invalid response: ${detail}`,
      });
    let json: unknown;
    try {
      json = result.text.trim() === "" ? undefined : JSON.parse(result.text);
    } catch {
      throw invalid("body is not JSON");
    }
    const parsed = await safeParseInTurns(schema, json);
    if (!parsed.success) throw invalid(redactWith(call)(describeIssues(parsed.error)));
    return parsed.data;
  }

  /** An error with no error answer behind it. */
  private newError(
    call: CallContext,
    attempts: number,
    init: Omit<ApiErrorInit, "method" | "route" | "attempts">,
  ): E {
    return this.dialect.createError({ method: call.method, route: call.route, attempts, ...init }, null);
  }

  private fromFailure(call: CallContext, failure: AttemptFailure<B>, attempts: number): E {
    return this.errorOf(call, failure, attempts, failure.kind, failure.retryable, failure.detail);
  }

  private outcomeUnknown(call: CallContext, failure: AttemptFailure<B>, attempts: number): E {
    return this.errorOf(
      call,
      failure,
      attempts,
      "outcome_unknown",
      false,
      `outcome unknown, the request may have been processed (${failure.detail})`,
    );
  }

  private deadlineError(
    call: CallContext,
    failure: AttemptFailure<B>,
    attempts: number,
    waitMs: number,
    serverAsked: boolean,
  ): E {
    const wait = serverAsked
      ? `the server asks for a ${waitMs} ms wait`
      : `the next retry is ${waitMs} ms away`;
    return this.errorOf(
      call,
      failure,
      attempts,
      "deadline",
      true,
      `${failure.detail}; ${wait}, beyond what is left of the ${this.deadlineMs} ms deadline`,
    );
  }

  private errorOf(
    call: CallContext,
    failure: AttemptFailure<B>,
    attempts: number,
    kind: ApiErrorKind,
    retryable: boolean,
    detail: string,
  ): E {
    return this.dialect.createError(
      {
        method: call.method,
        route: call.route,
        attempts,
        kind,
        status: failure.status,
        reason: failure.reason,
        retryable,
        detail,
        ...(failure.cause ? { cause: failure.cause } : {}),
      },
      failure.body,
    );
  }

  /** `inFlight`: the close cut an attempt short, so a POST may have been processed. */
  private closedError(call: CallContext, attempts: number, inFlight: boolean): E {
    return this.newError(call, attempts, {
      kind: call.method === "POST" && inFlight ? "outcome_unknown" : "connection",
      status: null,
      reason: "connection",
      retryable: false,
      detail: "client closed",
    });
  }
}

function fillRoute(route: string, params: Readonly<Record<string, string>>): string {
  return route.replace(/:([A-Za-z_]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`route ${route} needs a value for :${name}`);
    return encodeURIComponent(value);
  });
}

function queryString(query: Readonly<Record<string, string | undefined>>): string {
  const defined = Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return defined.length === 0 ? "" : `?${new URLSearchParams(defined).toString()}`;
}

/** The body as text, or null when it passes `max` bytes (reading stops there). */
async function readCapped(body: AsyncIterable<Buffer>, max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describeOpaqueBody(text: string, contentType: string | string[] | undefined): string {
  if (text.trim() === "") return "empty response body";
  try {
    JSON.parse(text);
    return "unrecognised error body";
  } catch {
    const type = firstHeader(contentType)?.split(";")[0]?.trim();
    return `non-JSON response body${type ? ` (${type})` : ""}`;
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function numericHeader(value: string | string[] | undefined): number | null {
  const text = firstHeader(value)?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

function redactWith(call: CallContext): (text: string) => string {
  return (text) => [...call.secrets].reduce((acc, secret) => acc.split(secret).join("[REDACTED]"), text);
}

/** A copy of the transport error that holds no reference to the request (and so no header). */
function sanitizedCause(err: unknown, redact: (text: string) => string): Error {
  const original = err instanceof Error ? err : new Error(String(err));
  const copy = new Error(redact(original.message));
  copy.name = original.name;
  const code = errorCode(err);
  if (code) Object.assign(copy, { code });
  return copy;
}
