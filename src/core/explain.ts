// Why an evaluation has the status it has, in words a person on call reads: one phrase per account that
// could not be read and per enabled integration that is not OK. Shared by `check`'s summary line and the
// status page's header so the two never disagree. Pure.

import { formatDuration } from "./durations.js";
import type { Evaluation, IntegrationState, OverallStatus } from "./status.js";

export function integrationProblem(state: IntegrationState): string {
  if (state.error) return state.error.message;
  if (state.idp?.trusted === false)
    return `the IdP (${state.idp.source}) signs with a certificate SendGrid does not trust: logins fail`;
  if (state.idp?.error) return `the IdP (${state.idp.source}) could not be checked: ${state.idp.error}`;
  if (!state.best) return "no valid certificate";
  return state.best.expiresInMs < 0
    ? `expired ${formatDuration(-state.best.expiresInMs)} ago`
    : `expires in ${formatDuration(state.best.expiresInMs)}`;
}

/** The problems behind `only` (a status) or, without it, behind every status other than OK. */
export function explainProblems(evaluation: Evaluation, only?: OverallStatus): string[] {
  const problems: string[] = [];
  for (const account of evaluation.accounts) {
    // The API's own words, so UNKNOWN says why without --json.
    if (account.error && (only === undefined || only === "unknown"))
      problems.push(`${account.account}: ${account.error.message}`);
    for (const state of account.integrations) {
      if (state.status === "ok" || !state.integration.enabled) continue;
      if (only !== undefined && state.status !== only) continue;
      problems.push(`${state.integration.name}: ${integrationProblem(state)}`);
    }
  }
  return problems;
}
