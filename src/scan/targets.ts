// Builds one SendGrid client per configured account, with the settings of `http:` and the metrics
// observer, and the scan targets over them. Closing the targets closes every connection pool.

import type { AccountConfig, Config } from "../config/types.js";
import { SendGridClient, type RequestObserver } from "../sendgrid/client.js";
import { SsoApi } from "../sendgrid/sso.js";
import type { ScanTarget } from "./inventory.js";

export function clientFor(
  config: Config,
  account: AccountConfig,
  observer?: RequestObserver,
  /** Total per call, retries included (`check --timeout`); default: the transport's. */
  deadlineMs?: number,
): SendGridClient {
  return new SendGridClient({
    account: account.name,
    baseUrl: account.baseUrl,
    apiKey: () => account.apiKey.read(),
    onBehalfOf: account.onBehalfOf,
    timeoutMs: config.http.timeoutMs,
    maxRetries: config.http.maxRetries,
    maxConcurrency: config.http.maxConcurrency,
    ...(observer ? { observer } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
  });
}

export interface Targets {
  readonly targets: ScanTarget[];
  readonly close: () => Promise<void>;
}

export function targetsFor(config: Config, observer?: RequestObserver, deadlineMs?: number): Targets {
  const clients = config.accounts.map((account) => ({
    account,
    client: clientFor(config, account, observer, deadlineMs),
  }));
  return {
    targets: clients.map(({ account, client }) => ({ account: account.name, api: new SsoApi(client) })),
    close: async () => {
      await Promise.all(clients.map(({ client }) => client.close()));
    },
  };
}
