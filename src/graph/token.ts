// Access tokens for Microsoft Graph by the OAuth 2.0 client credentials grant with a client secret
// ("Microsoft identity platform and the OAuth 2.0 client credentials flow": POST
// {authority}/{tenant}/oauth2/v2.0/token, form client_id, client_secret, scope={graph}/.default,
// grant_type=client_credentials). Caches the token until shortly before it expires, fetches one at a time
// however many calls wait, and re-reads the secret at every fetch so a rotated secret file is picked up.
// The secret and the tokens never reach an error, a log or a message.

import { JsonTransport, type Clock, type Dialect, type RequestObserver } from "../http/transport.js";
import { GraphError, describeGraphError, parseGraphError, type GraphErrorBody } from "./errors.js";
import { tokenSchema } from "./wire.js";

export const TOKEN_ROUTE = "/:tenant/oauth2/v2.0/token";
/** Refresh this long before expiry (or at half the lifetime, if shorter): a token must not die in flight. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export interface TokenProviderOptions {
  /** The `account` label of observer events. */
  readonly label: string;
  /** e.g. https://login.microsoftonline.com, no trailing slash. */
  readonly authorityUrl: string;
  readonly tenantId: string;
  readonly clientId: string;
  /** Read at every token request. */
  readonly clientSecret: () => string;
  /** e.g. https://graph.microsoft.com/.default */
  readonly scope: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly observer?: RequestObserver;
  readonly clock?: Clock;
  readonly random?: () => number;
}

interface CachedToken {
  readonly value: string;
  /** Clock time after which it is not handed out. */
  readonly refreshAt: number;
}

function tokenDialect(clientSecret: () => string): Dialect<GraphError, GraphErrorBody> {
  return {
    // The secret travels in the form body; naming it here keeps it out of every error of the call.
    authorize: () => ({ headers: {}, secrets: [clientSecret().trim()] }),
    rateLimitHeaders: null,
    parseError: parseGraphError,
    describeError: describeGraphError,
    createError: (init, body) => new GraphError(init, body),
  };
}

export class TokenProvider {
  readonly #options: TokenProviderOptions;
  readonly #transport: JsonTransport<GraphError, GraphErrorBody>;
  readonly #now: () => number;
  #cached: CachedToken | null = null;
  #pending: Promise<string> | null = null;

  constructor(options: TokenProviderOptions) {
    this.#options = options;
    this.#now = options.clock ? () => (options.clock as Clock).now() : () => Date.now();
    this.#transport = new JsonTransport({
      account: options.label,
      baseUrl: options.authorityUrl,
      dialect: tokenDialect(options.clientSecret),
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      // One token request at a time: callers share it.
      maxConcurrency: 1,
      ...(options.observer && { observer: options.observer }),
      ...(options.clock && { clock: options.clock }),
      ...(options.random && { random: options.random }),
    });
  }

  /**
   * A valid access token. `refresh`: the last one was refused as expired or invalid; drop it and fetch
   * another (a fetch already under way counts as fresh). Rejects with a GraphError from the token endpoint.
   */
  token(refresh = false): Promise<string> {
    if (this.#pending) return this.#pending;
    if (refresh) this.#cached = null;
    const cached = this.#cached;
    if (cached && this.#now() < cached.refreshAt) return Promise.resolve(cached.value);
    this.#cached = null;
    const pending = this.#fetch().finally(() => {
      this.#pending = null;
    });
    this.#pending = pending;
    return pending;
  }

  close(): Promise<void> {
    return this.#transport.close();
  }

  async #fetch(): Promise<string> {
    const started = this.#now();
    const token = await this.#transport.request({
      method: "POST",
      route: TOKEN_ROUTE,
      params: { tenant: this.#options.tenantId },
      form: {
        client_id: this.#options.clientId,
        client_secret: this.#options.clientSecret().trim(),
        scope: this.#options.scope,
        grant_type: "client_credentials",
      },
      // Asking twice for a token costs a token, nothing else.
      repeatable: true,
      schema: tokenSchema,
    });
    const lifetimeMs = token.expiresInSeconds * 1000;
    this.#cached = {
      value: token.accessToken,
      refreshAt: started + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
    };
    return token.accessToken;
  }
}
