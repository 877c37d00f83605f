// Turns anything thrown at the shell into a Failure with a stable reason: a SendGrid error keeps its own
// reason, anything else is a failure to reach the API. Used wherever a step must report, not crash.

import type { Failure } from "./model.js";
import type { ReasonCode } from "./reasons.js";

interface HasReason {
  readonly reason: ReasonCode;
  readonly message: string;
}

function hasReason(error: unknown): error is HasReason {
  return error instanceof Error && typeof (error as Partial<HasReason>).reason === "string";
}

export function failureOf(error: unknown): Failure {
  if (hasReason(error)) return { reason: error.reason, message: error.message };
  return { reason: "connection", message: error instanceof Error ? error.message : String(error) };
}
