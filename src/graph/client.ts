// The transport to Microsoft Graph for one app registration: Graph's dialect (a bearer access token from
// the TokenProvider, no rate-limit headers but Retry-After, Graph's error bodies and GraphError, one token
// refresh on 401 InvalidAuthenticationToken) over the shared JsonTransport, which owns timeouts, retries,
// waits and validation. Knows no endpoint; service-principals.ts does. Never puts the client secret or a
// token in an error.

import { JsonTransport, type Dialect, type RequestSpec, type TransportSettings } from "../http/transport.js";
import { GraphError, describeGraphError, parseGraphError, type GraphErrorBody } from "./errors.js";
import { TokenProvider } from "./token.js";

export interface GraphClientOptions extends TransportSettings {
  /** The `account` label of observer events and metrics. */
  readonly label: string;
  readonly tenantId: string;
  readonly clientId: string;
  /** Read at every token request, so a rotated secret file is picked up; never reaches an error. */
  readonly clientSecret: () => string;
  /** e.g. https://login.microsoftonline.com, no trailing slash. */
  readonly authorityUrl: string;
  /** e.g. https://graph.microsoft.com, no trailing slash; also the token's resource (`{graphUrl}/.default`). */
  readonly graphUrl: string;
}

const EXPIRED_TOKEN_CODE = "InvalidAuthenticationToken";

function graphDialect(tokens: TokenProvider): Dialect<GraphError, GraphErrorBody> {
  return {
    async authorize(refresh) {
      const token = await tokens.token(refresh);
      return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
    },
    // Graph announces no quota; it answers 429 (or 503) with Retry-After, which the transport honours.
    rateLimitHeaders: null,
    parseError: parseGraphError,
    describeError: describeGraphError,
    credentialExpired: (_answer, body) => body.errorCode === EXPIRED_TOKEN_CODE,
    createError: (init, body) => new GraphError(init, body),
  };
}

export class GraphClient {
  readonly #tokens: TokenProvider;
  readonly #transport: JsonTransport<GraphError, GraphErrorBody>;

  constructor(options: GraphClientOptions) {
    const shared = {
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      ...(options.observer && { observer: options.observer }),
      ...(options.clock && { clock: options.clock }),
      ...(options.random && { random: options.random }),
    };
    this.#tokens = new TokenProvider({
      ...shared,
      label: options.label,
      authorityUrl: options.authorityUrl,
      tenantId: options.tenantId,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      scope: `${options.graphUrl}/.default`,
    });
    this.#transport = new JsonTransport({
      ...shared,
      account: options.label,
      baseUrl: options.graphUrl,
      dialect: graphDialect(this.#tokens),
      maxConcurrency: options.maxConcurrency,
      ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
    });
  }

  request<T>(spec: RequestSpec<T>): Promise<T> {
    return this.#transport.request(spec);
  }

  /** Aborts waits and requests in flight (a POST among them ends as outcome_unknown), then closes the sockets. */
  async close(): Promise<void> {
    await Promise.all([this.#transport.close(), this.#tokens.close()]);
  }
}
