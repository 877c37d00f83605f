// When part of a scan fails, the last good data stays: an API outage must not look like every
// certificate vanished (series would disappear and alerts would resolve). Pure.

import type { Inventory, ScannedAccount, ScannedIntegration } from "./inventory.js";

function carryIntegration(
  current: ScannedIntegration,
  previous: ReadonlyMap<string, ScannedIntegration>,
): ScannedIntegration {
  if (current.certificates !== null) return current;
  const before = previous.get(current.integration.id);
  return before?.certificates ? { ...current, certificates: before.certificates } : current;
}

function carryAccount(current: ScannedAccount, previous: ScannedAccount | undefined): ScannedAccount {
  if (!previous) return current;
  if (current.error) return { ...current, integrations: previous.integrations };
  const byId = new Map(previous.integrations.map((i) => [i.integration.id, i]));
  return { ...current, integrations: current.integrations.map((i) => carryIntegration(i, byId)) };
}

/** The current scan, with anything it failed to read taken from the previous (already carried) one. */
export function carryForward(previous: Inventory | null, current: Inventory): Inventory {
  if (!previous) return current;
  const byName = new Map(previous.accounts.map((a) => [a.account, a]));
  return { accounts: current.accounts.map((a) => carryAccount(a, byName.get(a.account))) };
}
