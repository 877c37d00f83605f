// Plans `rollback`: undo the integration's last rotation. For a certificate rotation: re-enable what it
// disabled (when still present and valid) and disable the certificate it uploaded, but only if a valid
// enabled certificate remains. For an IdP key rollover: re-enable the previous key's certificate in
// SendGrid, re-activate the previous key at the IdP and confirm it, and only then disable the new
// certificate; never disable the certificate the IdP signs with. Pure; the way back when the IdP turns
// out to still sign with the old key, or the new key misbehaves.

import { idpView, type IdpView } from "./idp-view.js";
import type { Inventory } from "./inventory.js";
import {
  ACTIVE_PHASES,
  overridesOf,
  sameIntegration,
  type Journal,
  type RolloverRecord,
  type RotationRecord,
} from "./journal.js";
import type { Offer } from "./offer.js";
import type { Action } from "./plan.js";
import { evaluate, type IntegrationState } from "./status.js";
import { isUsable } from "./usable.js";

export type RolledBack =
  | { readonly kind: "rotation"; readonly rotation: RotationRecord }
  | { readonly kind: "rollover"; readonly rollover: RolloverRecord };

export type RollbackPlan =
  | { readonly ok: true; readonly undo: RolledBack; readonly actions: readonly Action[] }
  | { readonly ok: false; readonly message: string };

/** The integration's IdP as this cycle read it, for an integration whose rule reads one. */
export interface RollbackIdp {
  readonly offer: Offer;
  readonly ruleIndex: number;
}

const NO_THRESHOLDS = { warningMs: 0, criticalMs: 0 };
const UNDOABLE_ROLLOVER = new Set<RolloverRecord["phase"]>([
  "generated",
  "activating",
  "activated",
  "confirmed",
  "retired",
]);

const refuse = (message: string): RollbackPlan => ({ ok: false, message });

export function planRollback(
  scanned: Inventory,
  journal: Journal,
  account: string,
  integrationId: string,
  now: Date,
  idp: RollbackIdp | null = null,
): RollbackPlan {
  const same = sameIntegration(account, integrationId);
  const rotation = [...journal.rotations]
    .reverse()
    .find(
      (r) => same(r) && r.certificateId !== null && (ACTIVE_PHASES.has(r.phase) || r.phase === "retired"),
    );
  const rollover = [...journal.rollovers]
    .reverse()
    .find((r) => same(r) && r.key && UNDOABLE_ROLLOVER.has(r.phase));
  if (!rotation && !rollover)
    return refuse(`no rotation of integration ${integrationId} to roll back in the journal`);
  const accountState = evaluate(scanned, NO_THRESHOLDS, overridesOf(journal), now).accounts.find(
    (a) => a.account === account,
  );
  const state = accountState?.integrations.find((i) => i.integration.id === integrationId);
  if (!state || state.error) return refuse(`integration ${integrationId} could not be read from SendGrid`);
  let view: IdpView | null = null;
  if (idp && idp.offer.source !== "file") {
    if (!idp.offer.ok)
      return refuse(`the IdP could not be read (${idp.offer.message}); not rolling back blind`);
    const result = idpView(idp.offer, state);
    if (!result.ok) return refuse(result.message);
    view = result.view;
  }
  // The rollover's new key came to SendGrid through a mirror rotation: undoing the rollover undoes both.
  const rolloverIsLatest =
    rollover &&
    (!rotation ||
      rotation.fingerprint === rollover.key!.fingerprint ||
      rotation.startedAt <= rollover.startedAt);
  if (rollover && rolloverIsLatest) {
    if (!view || !idp)
      return refuse(
        `rotation ${rollover.id} was a key rollover at the IdP, but the rule no longer reads that IdP`,
      );
    return rollbackRollover(state, account, rollover, view, idp.ruleIndex);
  }
  return rollbackRotation(state, account, rotation!, view);
}

function rollbackRotation(
  state: IntegrationState,
  account: string,
  rotation: RotationRecord,
  view: IdpView | null,
): RollbackPlan {
  const target = { account, integrationId: state.integration.id, integrationName: state.integration.name };
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
    // Unless the IdP names another key as its signing one, this certificate may be the one it signs with.
    const maySign =
      view !== null &&
      view.published.has(rotation.fingerprint) &&
      (view.signing === null || view.signing.parsed.fingerprintSha256 === rotation.fingerprint);
    if (maySign)
      return refuse(
        `not rolling back: the IdP signs (or may sign) with certificate ${uploaded.api.id}; disabling it would lock everyone out`,
      );
    const remaining = state.certificates.filter(
      (c) => c.api.id !== uploaded.api.id && (isUsable(c) || restored.has(c.api.id)),
    );
    if (remaining.length === 0) {
      return refuse(
        `not rolling back: the certificates rotation ${rotation.id} replaced are gone or no longer valid, and disabling ${uploaded.api.id} would leave no valid enabled certificate`,
      );
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
  return { ok: true, undo: { kind: "rotation", rotation }, actions };
}

function rollbackRollover(
  state: IntegrationState,
  account: string,
  rollover: RolloverRecord,
  view: IdpView,
  ruleIndex: number,
): RollbackPlan {
  const target = { account, integrationId: state.integration.id, integrationName: state.integration.name };
  const key = rollover.key!;
  const previousId = rollover.previousKeyId;
  const previous = view.certificates.find((c) => c.offered.keyId !== null && c.offered.keyId === previousId);
  if (!previousId || !previous)
    return refuse(
      `not rolling back: the IdP no longer holds the previous key ${previousId ?? "(none recorded)"}`,
    );
  const fingerprint = previous.parsed.fingerprintSha256;
  const held = state.certificates.find(
    (c) => c.parsed?.fingerprintSha256 === fingerprint && (c.status === "valid" || c.status === "expiring"),
  );
  if (!held)
    return refuse(
      `not rolling back: SendGrid holds no valid certificate of the previous key ${previousId}; re-activating it would lock everyone out`,
    );
  const reason = `rolling back key rollover ${rollover.id}`;
  const actions: Action[] = [];
  if (!held.enabled)
    actions.push({
      ...target,
      kind: "enable",
      certificateId: held.api.id,
      fingerprint,
      rotationId: rollover.id,
      reason,
    });
  // Only once SendGrid trusts the previous key again may the IdP sign with it.
  if (view.signing?.offered.keyId !== previousId) {
    actions.push({ ...target, kind: "activate", rollover, keyId: previousId, ruleIndex, reason });
    actions.push({ ...target, kind: "confirm", rollover, keyId: previousId, ruleIndex, reason });
  }
  for (const fresh of state.certificates.filter(
    (c) => c.parsed?.fingerprintSha256 === key.fingerprint && c.enabled,
  ))
    actions.push({
      ...target,
      kind: "disable",
      certificateId: fresh.api.id,
      fingerprint: key.fingerprint,
      rotationId: rollover.id,
      reason,
    });
  return { ok: true, undo: { kind: "rollover", rollover }, actions };
}
