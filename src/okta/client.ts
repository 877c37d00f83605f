// One Okta app's signing keys through the Management API: Okta's dialect (`Authorization: SSWS`, the
// X-Rate-Limit-* headers, Okta's error object and OktaError) over the shared JsonTransport, which owns
// timeouts, retries, rate-limit waits and validation; and the four calls the tool makes. Never changes
// anything of the app but `credentials.signing.kid`, and never puts the API token in an error.
//
// Routes follow the Okta Management API reference, Apps API: "Get application", "List key credentials for
// application", "Generate new application key credential", and "Update key credential for application"
// (PUT the app object with the new `credentials.signing.kid`; a PUT replaces, so the whole object read
// just before is sent back).

import { JsonTransport, type Dialect, type TransportSettings } from "../http/transport.js";
import { OktaError, describeOktaError, parseOktaError, type OktaErrorBody } from "./errors.js";
import { appSchema, keyListSchema, keySchema, withSigningKid, type OktaApp, type OktaKey } from "./wire.js";

export type { OktaApp, OktaKey } from "./wire.js";

export const ROUTES = {
  app: "/api/v1/apps/:appId",
  keys: "/api/v1/apps/:appId/credentials/keys",
  generate: "/api/v1/apps/:appId/credentials/keys/generate",
} as const;

export interface OktaClientOptions extends TransportSettings {
  /** The `account` label of observer events and metrics. */
  readonly label: string;
  /** e.g. https://example.okta.com, no trailing slash. */
  readonly orgUrl: string;
  readonly appId: string;
  /** Read for every attempt, so a rotated token file is picked up; never reaches an error. */
  readonly apiToken: () => string;
}

function oktaDialect(apiToken: () => string): Dialect<OktaError, OktaErrorBody> {
  return {
    authorize() {
      const token = apiToken().trim();
      return { headers: { authorization: `SSWS ${token}` }, secrets: [token] };
    },
    // On every answer; the reset is UTC epoch seconds ("Rate limits", Okta developer docs).
    rateLimitHeaders: { remaining: "x-rate-limit-remaining", reset: "x-rate-limit-reset" },
    parseError: parseOktaError,
    describeError: describeOktaError,
    createError: (init, body) => new OktaError(init, body),
  };
}

export class OktaClient {
  readonly #appId: string;
  readonly #transport: JsonTransport<OktaError, OktaErrorBody>;

  constructor(options: OktaClientOptions) {
    this.#appId = options.appId;
    this.#transport = new JsonTransport({
      account: options.label,
      baseUrl: options.orgUrl,
      dialect: oktaDialect(options.apiToken),
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      maxConcurrency: options.maxConcurrency,
      ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
      ...(options.observer && { observer: options.observer }),
      ...(options.clock && { clock: options.clock }),
      ...(options.random && { random: options.random }),
    });
  }

  getApp(): Promise<OktaApp> {
    return this.#transport.request({
      method: "GET",
      route: ROUTES.app,
      params: { appId: this.#appId },
      schema: appSchema,
    });
  }

  listKeys(): Promise<OktaKey[]> {
    return this.#transport.request({
      method: "GET",
      route: ROUTES.keys,
      params: { appId: this.#appId },
      schema: keyListSchema,
    });
  }

  /** A new key in the app's key store (2..10 years); the app does not sign with it until activateKey. */
  generateKey(validityYears: number): Promise<OktaKey> {
    return this.#transport.request({
      method: "POST",
      route: ROUTES.generate,
      params: { appId: this.#appId },
      query: { validityYears: String(validityYears) },
      schema: keySchema,
    });
  }

  /**
   * Makes `kid` the app's signing key: reads the app and PUTs it back with only `credentials.signing.kid`
   * changed. Nothing is sent when the key is already active. Returns the app as Okta answered.
   */
  async activateKey(kid: string): Promise<OktaApp> {
    const app = await this.getApp();
    if (app.activeKid === kid) return app;
    return this.#transport.request({
      method: "PUT",
      route: ROUTES.app,
      params: { appId: this.#appId },
      body: withSigningKid(app, kid),
      schema: appSchema,
    });
  }

  /** The latest X-Rate-Limit-Remaining per templated route. */
  rateLimitRemaining(): ReadonlyMap<string, number> {
    return this.#transport.rateLimitRemaining();
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}
