// The Okta emulator: one node:http server (src/emulator/http-host.ts) speaking the Management API's Apps
// routes for an org with SAML apps. Adds the org-wide rate limit with Okta's X-Rate-Limit-* headers on
// every answer (429 E0000047 past the limit) and Okta error bodies for injected faults; faults are the
// SendGrid emulator's FaultController. Never stores or logs the SSWS token.
//
// Rate-limit headers follow "Rate limits" (developer.okta.com/docs/reference/rl-best-practices: the three
// headers on each response, X-Rate-Limit-Reset in UTC epoch seconds).

import { FaultController, seededRandom } from "../faults.js";
import { startHost, type HostRequest, type RequestLogEntry } from "../http-host.js";
import { RateLimiter, type RateLimitOptions } from "../rate-limit.js";
import type { ApiResponse } from "../routes.js";
import { DEFAULT_OKTA_QUIRKS, createOktaApi, type OktaPermission, type OktaQuirks } from "./routes.js";
import { OktaEmulatorState } from "./state.js";
import { OKTA_ERRORS, injectedError, oktaError } from "./wire.js";

export interface OktaEmulatorOptions {
  /** Accepted with okta.apps.manage (reads and writes). */
  readonly apiToken: string;
  /** Accepted with okta.apps.read only: writes get 403 E0000006. */
  readonly readOnlyTokens?: readonly string[];
  /** The CN of the certificates the org makes. Default "dev-00000000". */
  readonly orgName?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Clock for key dates, rate-limit windows, history and the log. */
  readonly now?: () => Date;
  /** Default 600 requests per 60 s for the whole org; the header prefix is always Okta's. */
  readonly rateLimit?: Omit<RateLimitOptions, "headerPrefix">;
  readonly quirks?: Partial<OktaQuirks>;
  /** Seed of the fault RNG; fixed in tests so probabilistic faults replay exactly. */
  readonly seedRandom?: number;
}

export interface OktaEmulator {
  /** http://HOST:PORT, no trailing slash: the org URL. */
  readonly url: string;
  readonly state: OktaEmulatorState;
  readonly faults: FaultController;
  /** Every request in arrival order, oldest first. */
  readonly log: readonly RequestLogEntry[];
  clearLog(): void;
  close(): Promise<void>;
}

export const DEFAULT_OKTA_RATE_LIMIT = { limit: 600, windowMs: 60_000 } as const;
/** Okta's org-wide limits apply whichever token calls. */
const RATE_LIMIT_BUCKET = "org";

export async function startOktaEmulator(options: OktaEmulatorOptions): Promise<OktaEmulator> {
  const now = options.now ?? (() => new Date());
  const state = new OktaEmulatorState(now, options.orgName ?? "dev-00000000");
  const limiter = new RateLimiter(
    { ...(options.rateLimit ?? DEFAULT_OKTA_RATE_LIMIT), headerPrefix: "X-Rate-Limit" },
    now,
  );
  const faults = new FaultController(seededRandom(options.seedRandom ?? Math.floor(Math.random() * 2 ** 32)));
  const tokens = new Map<string, OktaPermission>([
    ...(options.readOnlyTokens ?? []).map((t): [string, OktaPermission] => [t, "read"]),
    [options.apiToken, "manage"],
  ]);
  let url = "";
  const api = createOktaApi(
    state,
    () => tokens,
    () => url,
    { ...DEFAULT_OKTA_QUIRKS, ...options.quirks },
  );

  async function answer(request: HostRequest): Promise<ApiResponse> {
    const rate = limiter.take(RATE_LIMIT_BUCKET);
    if (!rate.allowed)
      return { status: 429, body: oktaError(OKTA_ERRORS.rateLimited), headers: rate.headers };
    const response = await api({
      method: request.method,
      path: request.url.pathname,
      query: request.url.searchParams,
      body: request.body,
      authorization: request.incoming.headers.authorization,
    });
    return { ...response, headers: { ...rate.headers, ...response.headers } };
  }

  const host = await startHost({
    ...(options.host !== undefined && { host: options.host }),
    ...(options.port !== undefined && { port: options.port }),
    now,
    faults,
    answer,
    injectedBody: (status) => injectedError(status, `injected fault: HTTP ${status}`),
    internalErrorBody: (message) => oktaError({ errorCode: "E0000009", errorSummary: message }),
  });
  url = host.url;

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
    close() {
      return host.close();
    },
  };
}
