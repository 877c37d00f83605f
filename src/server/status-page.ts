// The status page a person reads: integrations and certificates with time left, coloured by status,
// the last scan and its errors, the rotation history. Self-contained HTML (works offline, no assets);
// every value from SendGrid or the config is escaped.

import { formatDuration } from "../core/durations.js";
import { ACTIVE_PHASES, ACTIVE_ROLLOVER_PHASES, type Journal } from "../core/journal.js";
import type { CertificateState, Evaluation, IntegrationState } from "../core/status.js";
import type { AccountScanStats } from "../metrics/registry.js";
import type { LocatedFailure } from "../scan/monitor.js";

export interface HistoryEntry {
  readonly time: Date;
  readonly account: string;
  readonly integrationId: string;
  readonly certificateId: string | null;
  readonly action: string;
  readonly result: string;
  readonly message?: string;
}

export interface StatusPageInput {
  readonly now: Date;
  readonly version: string;
  readonly evaluation: Evaluation | null;
  readonly stats: readonly AccountScanStats[];
  readonly failures: readonly LocatedFailure[];
  readonly scanning: boolean;
  readonly history: readonly HistoryEntry[];
  readonly journal: Journal | null;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escape = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
const date = (value: Date | null): string => (value ? value.toISOString().replace(".000Z", "Z") : "—");

const STYLE = `
:root{--ok:#1a7f37;--warning:#9a6700;--critical:#cf222e;--unknown:#6e7781;--bg:#f6f8fa;--fg:#1f2328}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
header{background:#24292f;color:#fff;padding:14px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:0 0 16px;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:#57606a;font-size:12px;text-transform:uppercase}
tr.integration td{background:#f6f8fa;font-weight:600}td.cert{padding-left:28px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.ok,.valid,.success{background:var(--ok)}.warning,.expiring,.dry_run{background:var(--warning)}
.critical,.expired,.invalid,.failure{background:var(--critical)}.unknown,.not_yet_valid,.disabled{background:var(--unknown)}
.lockout{background:var(--critical);color:#fff;border-radius:6px;padding:8px 16px;margin-bottom:16px}.lockout code{color:#fff}
code{font:12px ui-monospace,monospace}.muted{color:#57606a}.err{color:var(--critical)}
`;

function badge(status: string): string {
  return `<span class="badge ${escape(status)}">${escape(status.replace(/_/g, " "))}</span>`;
}

function timeLeft(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 0 ? `expired ${formatDuration(-ms)} ago` : formatDuration(ms);
}

function certificateRow(certificate: CertificateState): string {
  const parsed = certificate.parsed;
  const enabled = certificate.knownEnabled === null ? "unknown" : certificate.knownEnabled ? "yes" : "no";
  return `<tr><td class="cert"><code>${escape(certificate.api.id)}</code></td>
<td>${escape(parsed?.subjectCn ?? "—")}<div class="muted"><code>${escape(parsed?.fingerprintSha256.slice(0, 16) ?? "")}</code></div></td>
<td>${date(certificate.notAfter)}</td><td>${timeLeft(certificate.expiresInMs)}</td><td>${enabled}</td>
<td>${badge(certificate.status)}${certificate.failure ? `<div class="err">${escape(certificate.failure.reason)}: ${escape(certificate.failure.message)}</div>` : ""}</td></tr>`;
}

function idpLine(state: IntegrationState): string {
  const idp = state.idp;
  if (!idp) return "";
  const verdict =
    idp.trusted === null
      ? `${badge("unknown")} <span class="err">${escape(idp.error ?? "")}</span>`
      : idp.trusted
        ? `${badge("ok")} SendGrid trusts the certificate it signs with`
        : `${badge("critical")} <span class="err">signs with a certificate SendGrid does not trust: logins fail</span>`;
  const signing = idp.signingFingerprint
    ? ` <span class="muted">signing <code>${escape(idp.signingFingerprint.slice(0, 16))}</code>, until ${date(idp.signingNotAfter)}</span>`
    : "";
  return `<div>IdP (${escape(idp.source)}): ${verdict}${signing}</div>`;
}

/** Lockouts happening now, first thing on the page: they need a person before anything else. */
function lockoutSection(evaluation: Evaluation): string {
  const locked = evaluation.accounts.flatMap((account) =>
    account.integrations
      .filter((state) => state.idp?.trusted === false)
      .map(
        (state) =>
          `<li><b>${escape(state.integration.name)}</b> <code>${escape(state.integration.id)}</code> (${escape(account.account)}): the IdP (${escape(state.idp!.source)}) signs with certificate <code>${escape(state.idp!.signingFingerprint ?? "?")}</code>, which SendGrid does not hold enabled and valid. Nobody can log in through it.</li>`,
      ),
  );
  if (locked.length === 0) return "";
  return `<section class="lockout"><h2>Lockout: SSO logins are failing now</h2><ul>${locked.join("\n")}</ul></section>`;
}

function integrationRows(state: IntegrationState): string {
  const name = `${escape(state.integration.name)} <span class="muted"><code>${escape(state.integration.id)}</code></span>`;
  const disabled = state.integration.enabled ? "" : ` ${badge("disabled")}`;
  const error =
    (state.error
      ? `<div class="err">${escape(state.error.reason)}: ${escape(state.error.message)}</div>`
      : "") + idpLine(state);
  return `<tr class="integration"><td colspan="2">${name}${disabled}${error}</td>
<td>${date(state.best?.notAfter ?? null)}</td><td>${timeLeft(state.best?.expiresInMs ?? null)}</td>
<td>${state.validCount} valid</td><td>${badge(state.status)}</td></tr>
${state.certificates.map(certificateRow).join("\n")}`;
}

function accountsSection(evaluation: Evaluation): string {
  return evaluation.accounts
    .map(
      (account) => `<section><h2>Account ${escape(account.account)}</h2>
${account.error ? `<p class="err">${escape(account.error.reason)}: ${escape(account.error.message)}</p>` : ""}
<table><thead><tr><th>Integration / certificate</th><th>Subject CN</th><th>Not after</th><th>Time left</th><th>Enabled</th><th>Status</th></tr></thead>
<tbody>${account.integrations.map(integrationRows).join("\n") || `<tr><td colspan="6" class="muted">no SSO integrations</td></tr>`}</tbody></table></section>`,
    )
    .join("\n");
}

function scansSection(input: StatusPageInput): string {
  const rows = input.stats
    .map(
      (
        s,
      ) => `<tr><td>${escape(s.account)}</td><td>${date(s.lastScrapeAt)}</td><td>${date(s.lastSuccessAt)}</td>
<td>${s.durationSeconds === null ? "—" : `${s.durationSeconds.toFixed(2)} s`}</td><td>${badge(s.lastScrapeAt === null ? "unknown" : s.success ? "ok" : "critical")}</td></tr>`,
    )
    .join("\n");
  const failures = input.failures
    .map(
      (f) =>
        `<tr><td>${escape(f.account)}</td><td><code>${escape(f.integrationId ?? "—")}</code></td><td><code>${escape(f.certificateId ?? "—")}</code></td><td><code>${escape(f.reason)}</code></td><td>${escape(f.message)}</td></tr>`,
    )
    .join("\n");
  return `<section><h2>Scans${input.scanning ? ` <span class="muted">(scan running)</span>` : ""}</h2>
<table><thead><tr><th>Account</th><th>Last scan</th><th>Last success</th><th>Duration</th><th>Result</th></tr></thead><tbody>${rows}</tbody></table>
${failures ? `<h2>Errors of the last scan</h2><table><thead><tr><th>Account</th><th>Integration</th><th>Certificate</th><th>Reason</th><th>Message</th></tr></thead><tbody>${failures}</tbody></table>` : ""}</section>`;
}

function rotationSection(journal: Journal | null): string {
  if (!journal) return "";
  const active = journal.rotations.filter((r) => ACTIVE_PHASES.has(r.phase));
  const rollovers = journal.rollovers.filter((r) => ACTIVE_ROLLOVER_PHASES.has(r.phase));
  if (active.length === 0 && rollovers.length === 0 && journal.backoff.length === 0) return "";
  const rolloverRows = rollovers
    .map(
      (r) =>
        `<tr><td>${escape(r.account)}</td><td><code>${escape(r.integrationId)}</code></td><td>${escape(r.source)}: ${escape(r.phase)}</td><td>${r.key ? `key <code>${escape(r.key.id)}</code>` : "being generated"} <span class="muted">(was <code>${escape(r.previousKeyId ?? "—")}</code>)</span></td><td>${date(r.startedAt)}</td><td>${date(r.key?.notAfter ?? null)}</td></tr>`,
    )
    .join("\n");
  const rows = active
    .map(
      (r) =>
        `<tr><td>${escape(r.account)}</td><td><code>${escape(r.integrationId)}</code></td><td>${escape(r.phase)}</td><td><code>${escape(r.certificateId ?? "—")}</code> ${escape(r.origin)}</td><td>${date(r.startedAt)}</td><td>${date(r.notAfter)}</td></tr>`,
    )
    .join("\n");
  const backoff = journal.backoff
    .map(
      (b) =>
        `<tr><td>${escape(b.account)}</td><td><code>${escape(b.integrationId)}</code></td><td>${b.failures}</td><td>${date(b.nextAttemptAt)}</td><td class="err">${escape(b.lastError)}</td></tr>`,
    )
    .join("\n");
  return `<section><h2>Rotations</h2>
${rows ? `<table><thead><tr><th>Account</th><th>Integration</th><th>Step</th><th>New certificate</th><th>Started</th><th>Valid until</th></tr></thead><tbody>${rows}</tbody></table>` : ""}
${rolloverRows ? `<h2>IdP key rollovers</h2><table><thead><tr><th>Account</th><th>Integration</th><th>Step</th><th>New key</th><th>Started</th><th>Valid until</th></tr></thead><tbody>${rolloverRows}</tbody></table>` : ""}
${backoff ? `<h2>Backing off after failures</h2><table><thead><tr><th>Account</th><th>Integration</th><th>Failures</th><th>Next attempt</th><th>Last error</th></tr></thead><tbody>${backoff}</tbody></table>` : ""}</section>`;
}

function historySection(history: readonly HistoryEntry[]): string {
  if (history.length === 0) return "";
  const rows = history
    .map(
      (h) =>
        `<tr><td>${date(h.time)}</td><td>${escape(h.account)}</td><td><code>${escape(h.integrationId)}</code></td><td><code>${escape(h.certificateId ?? "—")}</code></td><td>${escape(h.action)}</td><td>${badge(h.result)}</td><td>${escape(h.message ?? "")}</td></tr>`,
    )
    .join("\n");
  return `<section><h2>Rotation history</h2><table><thead><tr><th>Time</th><th>Account</th><th>Integration</th><th>Certificate</th><th>Action</th><th>Result</th><th>Message</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function renderStatusPage(input: StatusPageInput): string {
  const overall = input.evaluation?.status ?? "unknown";
  const body = input.evaluation
    ? lockoutSection(input.evaluation) + accountsSection(input.evaluation)
    : `<section><p class="muted">Waiting for the first scan…</p></section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="60"><title>SendGrid SSO certificates: ${escape(overall)}</title><style>${STYLE}</style></head>
<body><header><h1>SendGrid SSO certificates</h1>${badge(overall)}<span>as of ${date(input.now)}</span>
<span class="muted">v${escape(input.version)} · <a style="color:#fff" href="/metrics">metrics</a> · <a style="color:#fff" href="/api/v1/inventory">inventory JSON</a></span></header>
<main>${body}
${scansSection(input)}
${rotationSection(input.journal)}
${historySection(input.history)}</main></body></html>
`;
}
