// `check`: one scan, a table or the SPEC's JSON document, and Nagios exit codes (0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN) so it drops into Nagios, Icinga, Sensu or a CI job unchanged.

import { formatDuration } from "../../core/durations.js";
import { inventoryReport } from "../../core/report.js";
import { evaluate, type Evaluation, type OverallStatus } from "../../core/status.js";
import { overridesOf } from "../../core/journal.js";
import { journalStore } from "../../rotation/journal-file.js";
import { scanAll } from "../../scan/inventory.js";
import { readIdpSources } from "../../scan/monitor.js";
import { sourcesFor } from "../../sources/registry.js";
import type { CommandSpec } from "../args.js";
import { targetsFor } from "../../scan/targets.js";
import { configFrom, loggerFor, type Io } from "../context.js";
import { renderTable } from "../table.js";

export const NAGIOS_EXIT: Record<OverallStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

function summary(evaluation: Evaluation): string {
  const problems: string[] = [];
  for (const account of evaluation.accounts) {
    if (account.error) problems.push(`${account.account}: ${account.error.reason}`);
    for (const state of account.integrations) {
      if (state.status === "ok" || !state.integration.enabled) continue;
      const detail = state.error
        ? state.error.reason
        : state.idp?.trusted === false
          ? `the IdP (${state.idp.source}) signs with a certificate SendGrid does not trust: logins fail`
          : state.idp?.error
            ? `the IdP (${state.idp.source}) could not be checked: ${state.idp.error}`
            : state.best
              ? `expires in ${formatDuration(state.best.expiresInMs)}`
              : "no valid certificate";
      problems.push(`${state.integration.name}: ${detail}`);
    }
  }
  const count = evaluation.accounts.reduce((n, a) => n + a.integrations.length, 0);
  return `SENDGRID SSO ${evaluation.status.toUpperCase()} - ${
    problems.length > 0 ? problems.join("; ") : `${count} integration(s), all certificates fine`
  }`;
}

export function renderCheckTable(evaluation: Evaluation): string {
  const rows: string[][] = [];
  for (const account of evaluation.accounts) {
    for (const state of account.integrations) {
      const name = `${state.integration.name}${state.integration.enabled ? "" : " (disabled)"}`;
      if (state.certificates.length === 0) {
        rows.push([account.account, name, "—", "—", "—", "—", state.error ? "unknown" : "no certificates"]);
      }
      for (const certificate of state.certificates) {
        const left = certificate.expiresInMs;
        rows.push([
          account.account,
          name,
          certificate.api.id + (certificate === state.best ? " *" : ""),
          certificate.parsed?.subjectCn ?? certificate.failure?.reason ?? "—",
          certificate.notAfter?.toISOString() ?? "—",
          left === null ? "—" : left < 0 ? `-${formatDuration(-left)}` : formatDuration(left),
          certificate.status + (certificate.enabled ? "" : " (disabled)"),
        ]);
      }
    }
  }
  const table = renderTable(
    ["ACCOUNT", "INTEGRATION", "CERTIFICATE", "SUBJECT CN", "NOT AFTER", "TIME LEFT", "STATUS"],
    rows,
  );
  return `${summary(evaluation)}\n\n${table}(* the integration's best certificate)\n`;
}

export const checkCommand: CommandSpec<Io> = {
  name: "check",
  summary: "Scan once, print every integration's certificates, exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN)",
  async run(args, io) {
    const config = configFrom(args, io);
    const logger = loggerFor(config, io, "stderr");
    const { targets, close } = targetsFor(config);
    const sources = sourcesFor(config);
    try {
      // The journal knows which certificates this tool disabled, for an API that omits `enabled`.
      const journal = await journalStore(config.stateDir).load();
      const [inventory, offers] = await Promise.all([
        scanAll(targets, () => new Date()),
        readIdpSources(sources),
      ]);
      const evaluation = evaluate(inventory, config.thresholds, overridesOf(journal.data), new Date(), {
        rules: sources.rules,
        offers,
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
      return NAGIOS_EXIT[evaluation.status];
    } finally {
      await sources.close();
      await close();
    }
  },
};
