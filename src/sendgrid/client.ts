// The transport to one SendGrid account: SendGrid's dialect (Bearer key, `on-behalf-of`, the
// `X-RateLimit-*` headers, its error bodies and SendGridError) over the shared JsonTransport, which owns
// timeouts, retries, rate-limit waits and validation. Knows no endpoint; sso.ts does. Never puts the API
// key in an error.

import { JsonTransport, type TransportSettings, type Dialect, type RequestSpec } from "../http/transport.js";
import { SendGridError, describeMessages, parseErrorMessages, type SendGridMessage } from "./errors.js";

export type { Clock, HttpMethod, RequestEvent, RequestObserver, RequestSpec } from "../http/transport.js";

export interface ClientOptions extends TransportSettings {
  /** Label for metrics and logs. */
  account: string;
  /** e.g. https://api.sendgrid.com; a path prefix is kept. */
  baseUrl: string;
  /** Called for every attempt, so a key file may be re-read; its value never reaches an error. */
  apiKey: () => string;
  onBehalfOf?: string | null;
}

function sendGridDialect(options: ClientOptions): Dialect<SendGridError, SendGridMessage[]> {
  return {
    authorize() {
      const key = options.apiKey().trim();
      const headers: Record<string, string> = { authorization: `Bearer ${key}` };
      if (options.onBehalfOf) headers["on-behalf-of"] = options.onBehalfOf;
      return { headers, secrets: [key] };
    },
    rateLimitHeaders: { remaining: "x-ratelimit-remaining", reset: "x-ratelimit-reset" },
    parseError: (answer) => parseErrorMessages(answer.text),
    describeError: describeMessages,
    createError: (init, messages) => new SendGridError({ ...init, messages: messages ?? [] }),
  };
}

export class SendGridClient {
  private readonly transport: JsonTransport<SendGridError, SendGridMessage[]>;
  /** Requests in flight at most: callers with many calls to make start no more than this at once. */
  readonly maxConcurrency: number;

  constructor(options: ClientOptions) {
    const { apiKey: _key, onBehalfOf: _onBehalfOf, ...rest } = options;
    this.transport = new JsonTransport({ ...rest, dialect: sendGridDialect(options) });
    this.maxConcurrency = options.maxConcurrency;
  }

  /** The latest `X-RateLimit-Remaining` per templated route. */
  rateLimitRemaining(): ReadonlyMap<string, number> {
    return this.transport.rateLimitRemaining();
  }

  /** Aborts waits and requests in flight (a POST among them ends as outcome_unknown), then closes the sockets. */
  close(): Promise<void> {
    return this.transport.close();
  }

  request<T>(spec: RequestSpec<T>): Promise<T> {
    return this.transport.request(spec);
  }
}
