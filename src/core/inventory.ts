// What one scan saw, as plain data: the input of every pure decision (status, metrics, plan).
// Produced by src/scan/, never mutated after.

import type { ApiCertificate, Failure, Integration, ParseResult } from "./model.js";

export interface ScannedCertificate {
  readonly api: ApiCertificate;
  readonly parsed: ParseResult;
}

export interface ScannedIntegration {
  readonly integration: Integration;
  /** null when listing this integration's certificates failed (see `error`). */
  readonly certificates: readonly ScannedCertificate[] | null;
  readonly error: Failure | null;
}

export interface ScannedAccount {
  readonly account: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Set when the account could not be listed at all; integrations is then empty. */
  readonly error: Failure | null;
  readonly integrations: readonly ScannedIntegration[];
}

export interface Inventory {
  readonly accounts: readonly ScannedAccount[];
}

/** Journal facts the status needs: certificates this tool disabled, for APIs that omit `enabled`. */
export interface EnabledOverrides {
  isDisabledByTool(account: string, certificateId: string): boolean;
}

export const NO_OVERRIDES: EnabledOverrides = { isDisabledByTool: () => false };
