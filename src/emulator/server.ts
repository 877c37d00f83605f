// The SendGrid emulator: checks the bearer key and the rate limit, hands the rest to the routes. The
// shared HTTP face (faults, request log, socket ownership) is src/emulator/http-host.ts. Never stores the
// Authorization header.

import { timingSafeEqual } from "node:crypto";
import { FaultController, seededRandom } from "./faults.js";
import { loggedBody, startHost, type HostRequest, type RequestLogEntry } from "./http-host.js";
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from "./rate-limit.js";
import { DEFAULT_BEHAVIOUR, createApi, type ApiBehaviour, type ApiResponse } from "./routes.js";
import { applySeed, buildSeed, type Seed } from "./seeds.js";
import { EmulatorState } from "./state.js";
import {
  DEFAULT_QUIRKS,
  FORBIDDEN_BODY,
  TOO_MANY_REQUESTS_BODY,
  UNAUTHORIZED_BODY,
  WireRenderer,
  type Quirks,
} from "./wire.js";

export type { RequestLogEntry, RequestOutcome } from "./http-host.js";

export interface EmulatorOptions {
  /** The one bearer token accepted (until setApiKey). */
  readonly apiKey: string;
  /** Default: empty. */
  readonly seed?: Seed;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Clock for rate-limit windows, last_updated, history, the log and the demo seed. */
  readonly now?: () => Date;
  /** Default 10,000 requests per 60 s per endpoint, reset as a unix time, no Retry-After. */
  readonly rateLimit?: RateLimitOptions;
  /** How answers are shaped; the defaults are the spec's strictest reading (see wire.ts). */
  readonly quirks?: Partial<Quirks>;
  /** How requests are judged; the defaults are the spec's strictest reading (see routes.ts). */
  readonly behaviour?: Partial<ApiBehaviour>;
  /** Seed of the fault RNG; fixed in tests so probabilistic faults replay exactly. */
  readonly seedRandom?: number;
}

export interface Emulator {
  /** http://HOST:PORT, no trailing slash. */
  readonly url: string;
  readonly state: EmulatorState;
  readonly faults: FaultController;
  /** Every request in arrival order, oldest first (past 100,000 entries the older half is dropped). */
  readonly log: readonly RequestLogEntry[];
  clearLog(): void;
  /** From now on accepts only `key`, as SendGrid does once an API key is replaced by a new one. */
  setApiKey(key: string): void;
  /** Closes the server and destroys every open, hung or trickling connection. */
  close(): Promise<void>;
}

/** With `per: "account"`: one rate limit, whichever of its keys a request carries. */
const ACCOUNT_BUCKET = "account";
const UNKNOWN_ROUTE_BUCKET = "unknown route";

function keyMatches(header: string | undefined, apiKey: string): boolean {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (token === undefined) return false;
  const given = Buffer.from(token);
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const now = options.now ?? (() => new Date());
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const limiter = new RateLimiter(rateLimit, now);
  const state = new EmulatorState(now);
  applySeed(state, await buildSeed(options.seed ?? { kind: "empty" }, now()));
  const wire = new WireRenderer({ ...DEFAULT_QUIRKS, ...options.quirks });
  const api = createApi(state, wire, { ...DEFAULT_BEHAVIOUR, ...options.behaviour });
  const faults = new FaultController(seededRandom(options.seedRandom ?? Math.floor(Math.random() * 2 ** 32)));
  let apiKey = options.apiKey;

  /** Authentication, authorization, rate limit, then the API itself. */
  function answer(request: HostRequest): ApiResponse {
    if (!keyMatches(request.incoming.headers.authorization, apiKey)) {
      return { status: 401, body: UNAUTHORIZED_BODY };
    }
    const bucket =
      rateLimit.per === "account"
        ? ACCOUNT_BUCKET
        : (api.templateOf(request.method, request.url.pathname) ?? UNKNOWN_ROUTE_BUCKET);
    const rate = limiter.take(bucket);
    if (!rate.allowed) return { status: 429, body: TOO_MANY_REQUESTS_BODY, headers: rate.headers };
    const response = state.forbidden
      ? { status: 403, body: FORBIDDEN_BODY }
      : api.answer({
          method: request.method,
          path: request.url.pathname,
          query: request.url.searchParams,
          body: request.body,
        });
    return { ...response, headers: { ...rate.headers, ...response.headers } };
  }

  const host = await startHost({
    ...(options.host !== undefined && { host: options.host }),
    ...(options.port !== undefined && { port: options.port }),
    now,
    faults,
    answer,
    injectedBody: (status) =>
      wire.errors([{ message: `injected fault: HTTP ${status}`, field: null, errorId: "injected" }]),
    internalErrorBody: (message) => wire.errors([{ message, field: null, errorId: "internal" }]),
    logged: (request) => {
      const onBehalfOf = request.incoming.headers["on-behalf-of"];
      return { body: loggedBody(request), headers: typeof onBehalfOf === "string" ? { onBehalfOf } : {} };
    },
  });

  return {
    url: host.url,
    state,
    faults,
    get log() {
      return host.log;
    },
    clearLog() {
      host.clearLog();
    },
    setApiKey(key) {
      apiKey = key;
    },
    close() {
      return host.close();
    },
  };
}
