// Plans `rollback`: re-enable what the integration's last rotation disabled (when still present and
// valid) and disable the certificate it uploaded, but only if a valid enabled certificate remains.
// Pure; the way back when the IdP turns out to still sign with the old key.

import type { Inventory } from "./inventory.js";
import { ACTIVE_PHASES, overridesOf, sameIntegration, type Journal, type RotationRecord } from "./journal.js";
import type { Action } from "./plan.js";
import { evaluate, isUsable } from "./status.js";

export type RollbackPlan =
  | { readonly ok: true; readonly rotation: RotationRecord; readonly actions: readonly Action[] }
  | { readonly ok: false; readonly message: string };

const NO_THRESHOLDS = { warningMs: 0, criticalMs: 0 };

export function planRollback(
  scanned: Inventory,
  journal: Journal,
  account: string,
  integrationId: string,
  now: Date,
): RollbackPlan {
  const rotation = [...journal.rotations]
    .reverse()
    .find(
      (r) =>
        sameIntegration(account, integrationId)(r) &&
        r.certificateId !== null &&
        (ACTIVE_PHASES.has(r.phase) || r.phase === "retired"),
    );
  if (!rotation)
    return { ok: false, message: `no rotation of integration ${integrationId} to roll back in the journal` };
  const accountState = evaluate(scanned, NO_THRESHOLDS, overridesOf(journal), now).accounts.find(
    (a) => a.account === account,
  );
  const state = accountState?.integrations.find((i) => i.integration.id === integrationId);
  if (!state || state.error)
    return { ok: false, message: `integration ${integrationId} could not be read from SendGrid` };
  const target = { account, integrationId, integrationName: state.integration.name };

  const actions: Action[] = [];
  const restored = new Set<string>();
  for (const ref of rotation.replaces) {
    const old = state.certificates.find((c) => c.api.id === ref.certificateId);
    if (!old || !old.parsed || (old.status !== "valid" && old.status !== "expiring")) continue;
    restored.add(old.api.id);
    if (old.enabled) continue;
    actions.push({
      ...target,
      kind: "enable",
      certificateId: old.api.id,
      fingerprint: ref.fingerprint,
      rotationId: rotation.id,
      reason: `rolling back rotation ${rotation.id}`,
    });
  }
  const uploaded = state.certificates.find((c) => c.api.id === rotation.certificateId);
  if (uploaded?.enabled) {
    const remaining = state.certificates.filter(
      (c) => c.api.id !== uploaded.api.id && (isUsable(c) || restored.has(c.api.id)),
    );
    if (remaining.length === 0) {
      return {
        ok: false,
        message: `not rolling back: the certificates rotation ${rotation.id} replaced are gone or no longer valid, and disabling ${uploaded.api.id} would leave no valid enabled certificate`,
      };
    }
    actions.push({
      ...target,
      kind: "disable",
      certificateId: uploaded.api.id,
      fingerprint: rotation.fingerprint,
      rotationId: rotation.id,
      reason: `rolling back rotation ${rotation.id}`,
    });
  }
  return { ok: true, rotation, actions };
}
