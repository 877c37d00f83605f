// Which rotation rule, if any, applies to an integration: the first whose account and match fit. Pure;
// shared by the planner, the lockout detector and the commands so they can never disagree.

import type { IntegrationMatch, RotationRule } from "../config/types.js";
import type { Integration } from "./model.js";

export function matchRule(
  rules: readonly RotationRule[],
  account: string,
  integration: Integration,
): number | null {
  const matches = (match: IntegrationMatch) =>
    "id" in match ? match.id === integration.id : match.name === integration.name;
  const index = rules.findIndex(
    (rule) => (rule.account === null || rule.account === account) && matches(rule.match),
  );
  return index === -1 ? null : index;
}
