// What a source of replacement certificates hands on: texts to validate, and what went wrong while
// reading them, both as plain data. Sources never decide whether a certificate is acceptable; that is
// src/certs/validate.ts's job.

/** One certificate-bearing text (a chain counts as one) and where it came from, for messages. */
export interface SourceInput {
  readonly origin: string;
  readonly text: string;
}

/** Something a source could not read or chose to skip, named by where it happened. */
export interface SourceNote {
  readonly origin: string;
  readonly message: string;
}
