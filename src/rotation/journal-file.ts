// The rotation journal on disk: journal.json in state_dir through JsonStore (atomic, versioned), with
// the zod schema of its content. Knows the file format and nothing of rotation decisions.

import { join } from "node:path";
import { z } from "zod";
import { EMPTY_JOURNAL, ROLLOVER_PHASES, ROTATION_PHASES, type Journal } from "../core/journal.js";
import { JsonStore, type StoreOptions } from "./store.js";

export const JOURNAL_VERSION = 1;
export const JOURNAL_FILE = "journal.json";

const date = z.iso.datetime().transform((text) => new Date(text));
const nullableDate = date.nullable();
const ref = { certificateId: z.string(), fingerprint: z.string() };
const where = { account: z.string(), integrationId: z.string() };

const journalSchema = z.object({
  rotations: z.array(
    z.object({
      id: z.string(),
      ...where,
      kind: z.enum(["replace", "mirror"]),
      origin: z.string(),
      fingerprint: z.string(),
      pem: z.string(),
      notAfter: date,
      replaces: z.array(z.object(ref)),
      phase: z.enum(ROTATION_PHASES),
      certificateId: z.string().nullable(),
      startedAt: date,
      attemptedAt: nullableDate.optional(),
      uploadedAt: nullableDate,
      verifiedAt: nullableDate,
      retiredAt: nullableDate,
      note: z.string().nullable(),
    }),
  ),
  // Absent in journals written before IdP rollovers existed.
  rollovers: z
    .array(
      z.object({
        id: z.string(),
        ...where,
        source: z.enum(["okta", "entra"]),
        phase: z.enum(ROLLOVER_PHASES),
        intent: z
          .object({
            requestedAt: date,
            validityYears: z.number().int().positive(),
            subject: z.string(),
            knownKeyIds: z.array(z.string()),
          })
          .nullable(),
        key: z.object({ id: z.string(), fingerprint: z.string(), notAfter: date }).nullable(),
        previousKeyId: z.string().nullable(),
        replaces: z.array(z.object(ref)),
        startedAt: date,
        activatedAt: nullableDate,
        confirmedAt: nullableDate,
        retiredAt: nullableDate,
        note: z.string().nullable(),
      }),
    )
    .default([]),
  disabled: z.array(z.object({ ...where, ...ref, at: date })),
  unpublished: z.array(z.object({ ...where, fingerprint: z.string(), since: date })),
  backoff: z.array(
    z.object({ ...where, failures: z.number().int().positive(), nextAttemptAt: date, lastError: z.string() }),
  ),
  inProgress: z
    .object({
      action: z.enum(["upload", "verify", "disable", "enable", "delete", "generate", "activate", "confirm"]),
      ...where,
      certificateId: z.string().nullable(),
      rotationId: z.string().nullable(),
      startedAt: date,
    })
    .nullable(),
}) satisfies z.ZodType<Journal, unknown>;

export function journalStore(
  stateDir: string,
  now?: () => Date,
  onWrite?: StoreOptions<Journal>["onWrite"],
): JsonStore<Journal> {
  return new JsonStore<Journal>({
    path: join(stateDir, JOURNAL_FILE),
    schema: journalSchema,
    version: JOURNAL_VERSION,
    empty: () => EMPTY_JOURNAL,
    label: "journal",
    ...(now ? { now } : {}),
    ...(onWrite ? { onWrite } : {}),
  });
}
