// Runs before every test file: fail the run on an unhandled rejection instead of letting it pass silently.
process.on("unhandledRejection", (reason) => {
  throw reason instanceof Error ? reason : new Error(String(reason));
});
