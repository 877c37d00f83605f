// `check`: one scan, a table or the SPEC's JSON document, and Nagios exit codes (0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN) so it drops into Nagios, Icinga, Sensu or a CI job unchanged.

import { ParseCacheFile } from "../../certs/parse-cache-file.js";
import { keyRejection } from "../../certs/validate.js";
import { formatDuration, parseDuration } from "../../core/durations.js";
import { explainProblems } from "../../core/explain.js";
import { inventoryReport } from "../../core/report.js";
import { evaluate, type CertificateState, type Evaluation, type OverallStatus } from "../../core/status.js";
import { overridesOf } from "../../core/journal.js";
import { journalStore } from "../../rotation/journal-file.js";
import type { RotationRule } from "../../config/types.js";
import type { ScannedAccount } from "../../core/inventory.js";
import { watchesIdp, type Offer } from "../../core/offer.js";
import { scanAccount } from "../../scan/inventory.js";
import { readIdpSources } from "../../scan/monitor.js";
import { sourcesFor } from "../../sources/registry.js";
import { UsageError, type ParsedArgs } from "../args.js";
import { targetsFor } from "../../scan/targets.js";
import { configFrom, loggerFor, type Io } from "../context.js";
import { DEFAULT_CHECK_TIMEOUT_MS } from "../specs.js";
import { renderTable } from "../table.js";

export const NAGIOS_EXIT: Record<OverallStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/** Why the best certificate is weak, as the rotation validator would refuse it; null when it is not. */
export function weakness(certificate: CertificateState): string | null {
  if (!certificate.parsed) return null;
  const origin = `certificate ${certificate.api.id}`;
  const key = keyRejection(origin, certificate.parsed);
  if (key) return key.message;
  return /\bSHA-?1$/i.test(certificate.parsed.signatureAlgorithm) ? `${origin}: signed with SHA-1` : null;
}

/** The status `check` reports: a weak best certificate makes an otherwise OK integration a WARNING. */
export function checkStatus(evaluation: Evaluation): OverallStatus {
  const weak = evaluation.accounts.some((account) =>
    account.integrations.some((s) => s.integration.enabled && s.best !== null && weakness(s.best) !== null),
  );
  return evaluation.status === "ok" && weak ? "warning" : evaluation.status;
}

function summary(evaluation: Evaluation): string {
  const problems = explainProblems(evaluation);
  for (const account of evaluation.accounts) {
    for (const state of account.integrations) {
      const weak = state.integration.enabled && state.best ? weakness(state.best) : null;
      if (weak) problems.push(`${state.integration.name}: weak ${weak}`);
    }
  }
  const count = evaluation.accounts.reduce((n, a) => n + a.integrations.length, 0);
  return `SENDGRID SSO ${checkStatus(evaluation).toUpperCase()} - ${
    problems.length > 0 ? problems.join("; ") : `${count} integration(s), all certificates fine`
  }`;
}

export function renderCheckTable(evaluation: Evaluation): string {
  const rows: string[][] = [];
  for (const account of evaluation.accounts) {
    for (const state of account.integrations) {
      const name = `${state.integration.name}${state.integration.enabled ? "" : " (disabled)"}`;
      const id = state.integration.id;
      if (state.certificates.length === 0) {
        rows.push([
          account.account,
          name,
          id,
          "—",
          "—",
          "—",
          "—",
          state.error ? "unknown" : "no certificates",
        ]);
      }
      for (const certificate of state.certificates) {
        const left = certificate.expiresInMs;
        rows.push([
          account.account,
          name,
          id,
          certificate.api.id + (certificate === state.best ? " *" : ""),
          certificate.parsed?.subjectCn ?? certificate.failure?.reason ?? "—",
          certificate.notAfter?.toISOString() ?? "—",
          left === null ? "—" : left < 0 ? `-${formatDuration(-left)}` : formatDuration(left),
          certificate.status +
            (certificate.enabled ? "" : " (disabled)") +
            (certificate === state.best && weakness(certificate) ? " (weak)" : ""),
        ]);
      }
    }
  }
  const table = renderTable(
    [
      "ACCOUNT",
      "INTEGRATION",
      "INTEGRATION ID",
      "CERTIFICATE",
      "SUBJECT CN",
      "NOT AFTER",
      "TIME LEFT",
      "STATUS",
    ],
    rows,
  );
  return `${summary(evaluation)}\n\n${table}(* the integration's best certificate)\n`;
}

function timeoutOf(args: ParsedArgs): number {
  const value = args.values.timeout;
  if (typeof value !== "string") return DEFAULT_CHECK_TIMEOUT_MS;
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
  } catch {
    // reported below, as for zero
  }
  throw new UsageError(`--timeout: "${value}" is not a positive duration (e.g. 5s, 1m)`, "");
}

function lateOffers(rules: readonly RotationRule[], message: string): Map<number, Offer> {
  const offers = new Map<number, Offer>();
  rules.forEach((rule, index) => {
    if (watchesIdp(rule.source.type))
      offers.set(index, { ok: false, source: rule.source.type, message, status: null, reason: "timeout" });
  });
  return offers;
}

export async function runCheck(args: ParsedArgs, io: Io): Promise<number> {
  const timeoutMs = timeoutOf(args);
  const loaded = configFrom(args, io);
  // One attempt never outlasts the whole check; each call (retries included) ends a little before it,
  // with its own reason, and the hard stop below catches whatever is still waiting.
  const config = {
    ...loaded,
    http: { ...loaded.http, timeoutMs: Math.min(loaded.http.timeoutMs, timeoutMs) },
  };
  const logger = loggerFor(config, io, "stderr");
  const sources = await sourcesFor(config);
  const { targets, close } = targetsFor(config, undefined, timeoutMs - Math.min(1_000, timeoutMs / 10));
  const now = () => new Date();
  const parseCache = new ParseCacheFile(config.stateDir, logger);
  let timer: NodeJS.Timeout | undefined;
  try {
    void parseCache.load();
    // The journal knows which certificates this tool disabled, for an API that omits `enabled`.
    const journal = await journalStore(config.stateDir).load();
    const scanned = new Map<string, ScannedAccount>();
    let offers: Map<number, Offer> | null = null;
    const work = Promise.all([
      ...targets.map((target) => scanAccount(target, now).then((a) => scanned.set(target.account, a))),
      readIdpSources(sources).then((read) => (offers = read)),
    ]);
    await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    // The scan is over; evaluating and rendering it (20-50 ms for 3,000 certificates) start in a turn of
    // the event loop of their own, after the timers due by then, not in the microtasks of the last answer.
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Whatever has not answered by the deadline is UNKNOWN, saying so, rather than a check killed by Nagios.
    const late = `no answer within ${formatDuration(timeoutMs)} (--timeout)`;
    const accounts = targets.map(
      (target): ScannedAccount =>
        scanned.get(target.account) ?? {
          account: target.account,
          startedAt: now(),
          finishedAt: now(),
          error: { reason: "timeout", message: late },
          integrations: [],
        },
    );
    const evaluation = evaluate({ accounts }, config.thresholds, overridesOf(journal.data), now(), {
      rules: sources.rules,
      offers: offers ?? lateOffers(sources.rules, late),
    });
    for (const account of evaluation.accounts) {
      if (account.error)
        logger.error({ account: account.account, reason: account.error.reason }, account.error.message);
    }
    io.stdout.write(
      args.values.json
        ? JSON.stringify(inventoryReport(evaluation), null, 2) + "\n"
        : renderCheckTable(evaluation),
    );
    return NAGIOS_EXIT[checkStatus(evaluation)];
  } finally {
    clearTimeout(timer);
    // Aborts whatever is still in flight after a timeout; keeps what was parsed for the next check.
    await Promise.all([sources.close(), close(), parseCache.save()]);
  }
}
