// Runs before every test file: fail the run on an unhandled rejection, and on the warnings that mean a
// leak or a lost error (listeners piling up on an emitter or an AbortSignal, a rejection handled too
// late), instead of letting them scroll past on stderr.
const FAILING_WARNINGS = new Set(["MaxListenersExceededWarning", "PromiseRejectionHandledWarning"]);

process.on("unhandledRejection", (reason) => {
  throw reason instanceof Error ? reason : new Error(String(reason));
});

process.on("warning", (warning) => {
  if (FAILING_WARNINGS.has(warning.name)) throw warning;
});
