// One scan of every configured account: list integrations (si=true), then each integration's
// certificates, exactly 1 + N requests per account. The client bounds concurrency; a failing
// integration or account becomes a Failure in the inventory, never an exception out of here.

import { parseCertificate } from "../certs/parse.js";
import { failureOf } from "../core/failure.js";
import type { Inventory, ScannedAccount, ScannedIntegration } from "../core/inventory.js";
import type { Integration } from "../core/model.js";
import type { SsoApi } from "../sendgrid/sso.js";

export interface ScanTarget {
  readonly account: string;
  readonly api: SsoApi;
}

/** Lists and parses one integration's certificates; a failure becomes data. */
export async function scanIntegration(api: SsoApi, integration: Integration): Promise<ScannedIntegration> {
  try {
    const certificates = await api.listCertificates(integration.id);
    return {
      integration,
      certificates: certificates.map((certificate) => ({
        api: certificate,
        parsed: parseCertificate(certificate.pem),
      })),
      error: null,
    };
  } catch (error) {
    return { integration, certificates: null, error: failureOf(error) };
  }
}

export async function scanAccount(target: ScanTarget, now: () => Date): Promise<ScannedAccount> {
  const startedAt = now();
  try {
    const integrations = await target.api.listIntegrations({ si: true });
    const scanned = await Promise.all(integrations.map((i) => scanIntegration(target.api, i)));
    return { account: target.account, startedAt, finishedAt: now(), error: null, integrations: scanned };
  } catch (error) {
    return {
      account: target.account,
      startedAt,
      finishedAt: now(),
      error: failureOf(error),
      integrations: [],
    };
  }
}

export async function scanAll(targets: readonly ScanTarget[], now: () => Date): Promise<Inventory> {
  return { accounts: await Promise.all(targets.map((target) => scanAccount(target, now))) };
}
