// The Microsoft Entra emulator: one node:http server (src/emulator/http-host.ts) that is both the
// identity platform authority (`POST /{tenant}/oauth2/v2.0/token`) and Microsoft Graph (`/v1.0/...`), so
// a test points `authority_url` and `graph_url` at the same URL. Adds Graph's request-id headers and
// error bodies; faults are the SendGrid emulator's FaultController. Never logs a client secret or token.

import { randomUUID } from "node:crypto";
import { FaultController, seededRandom } from "../faults.js";
import { loggedBody, startHost, type HostRequest, type RequestLogEntry } from "../http-host.js";
import type { ApiResponse } from "../routes.js";
import { createGraphApi } from "./routes.js";
import { GraphEmulatorState, type GraphRole } from "./state.js";
import { TOKEN_PATH, createTokenEndpoint, loggableForm } from "./token-endpoint.js";
import { TokenIssuer } from "./tokens.js";
import { graphError, stsError, type RequestIds } from "./wire.js";

export interface GraphClientInit {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Application permissions granted with admin consent, e.g. ["Application.Read.All"]. */
  readonly roles: readonly GraphRole[];
}

export interface GraphEmulatorOptions {
  readonly tenantId: string;
  readonly clients: readonly GraphClientInit[];
  /** Default 3599, what the identity platform typically grants. */
  readonly tokenLifetimeSeconds?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Clock for token expiry, credential dates, history and the log. */
  readonly now?: () => Date;
  /** Seed of the fault RNG; fixed in tests so probabilistic faults replay exactly. */
  readonly seedRandom?: number;
}

export interface GraphEmulator {
  /** http://HOST:PORT, no trailing slash: both the authority URL and the Graph URL. */
  readonly url: string;
  readonly state: GraphEmulatorState;
  readonly faults: FaultController;
  /** Every request in arrival order, oldest first; token requests show `client_secret` as [REDACTED]. */
  readonly log: readonly RequestLogEntry[];
  clearLog(): void;
  /** Every access token issued so far expires now. */
  expireTokens(): void;
  close(): Promise<void>;
}

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3599;

const GRAPH_JSON =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
const STS_JSON = "application/json; charset=utf-8";

/** Graph's code for a status a fault injects without naming a body. */
function injectedCode(status: number): string {
  if (status === 429) return "TooManyRequests";
  if (status === 503) return "serviceNotAvailable";
  if (status === 504) return "gatewayTimeout";
  return status >= 500 ? "UnknownError" : "BadRequest";
}

export async function startGraphEmulator(options: GraphEmulatorOptions): Promise<GraphEmulator> {
  const now = options.now ?? (() => new Date());
  const state = new GraphEmulatorState(now);
  for (const client of options.clients) state.addClient(client);
  const tokens = new TokenIssuer(now, options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS);
  const faults = new FaultController(seededRandom(options.seedRandom ?? Math.floor(Math.random() * 2 ** 32)));
  let url = "";
  const graphUrl = () => url;
  const tokenEndpoint = createTokenEndpoint(state, tokens, options.tenantId, graphUrl);
  const graphApi = createGraphApi(state, tokens, graphUrl);

  const idsOf = (request: HostRequest | null, time: Date): RequestIds => {
    const requestId = randomUUID();
    const given = request?.incoming.headers["client-request-id"];
    return {
      requestId,
      clientRequestId: typeof given === "string" && given !== "" ? given : requestId,
      date: time,
    };
  };
  const isTokenPath = (path: string) => TOKEN_PATH.test(path);

  async function answer(request: HostRequest): Promise<ApiResponse> {
    const ids = idsOf(request, now());
    const tenant = TOKEN_PATH.exec(request.url.pathname)?.[1];
    if (tenant !== undefined) {
      const response = tokenEndpoint({
        method: request.method,
        tenant,
        contentType: request.incoming.headers["content-type"],
        rawBody: request.raw,
        ids,
      });
      return {
        ...response,
        headers: {
          "Content-Type": STS_JSON,
          "Cache-Control": "no-store, no-cache",
          "x-ms-request-id": ids.requestId,
        },
      };
    }
    const response = await graphApi({
      method: request.method,
      path: request.url.pathname,
      query: request.url.searchParams,
      body: request.body,
      authorization: request.incoming.headers.authorization,
      ids,
    });
    return {
      ...response,
      headers: {
        ...(response.body !== null && { "Content-Type": GRAPH_JSON }),
        "request-id": ids.requestId,
        "client-request-id": ids.clientRequestId,
      },
    };
  }

  const errorBody = (status: number, message: string, path: string, request: HostRequest | null): string => {
    const ids = idsOf(request, now());
    return isTokenPath(path)
      ? stsError({ error: "temporarily_unavailable", aadsts: 50000, description: message }, ids)
      : graphError(injectedCode(status), message, ids);
  };

  const host = await startHost({
    ...(options.host !== undefined && { host: options.host }),
    ...(options.port !== undefined && { port: options.port }),
    now,
    faults,
    answer,
    injectedBody: (status, request) =>
      errorBody(status, `injected fault: HTTP ${status}`, request.url.pathname, request),
    internalErrorBody: (message, requestUrl) => errorBody(500, message, requestUrl.pathname, null),
    logged: (request) => ({
      body: isTokenPath(request.url.pathname) ? loggableForm(request.raw) : loggedBody(request),
      headers: {},
    }),
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
    expireTokens() {
      tokens.expireAll();
    },
    close() {
      return host.close();
    },
  };
}
