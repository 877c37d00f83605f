// `run`: the daemon until SIGTERM/SIGINT, then a clean stop (exit 0). SIGHUP and a change of the config
// file reload the configuration (src/daemon.ts).

import { startDaemon } from "../../daemon.js";
import type { ParsedArgs } from "../args.js";
import { ENVIRONMENT_SOURCE } from "../../config/load.js";
import { configFrom, loadFromArgs, loggerFor, type Io } from "../context.js";
import { untilSignal } from "../signals.js";

const SHUTDOWN_GRACE_MS = 10_000;

export async function runDaemon(args: ParsedArgs, io: Io): Promise<number> {
  const config = configFrom(args, io, { stateDir: true });
  const logger = loggerFor(config, io, "stdout");
  logger.info({ config: config.source, accounts: config.accounts.map((a) => a.name) }, "starting");
  const daemon = await startDaemon({
    config,
    logger,
    reload: {
      // The same file, environment and flags as at start-up, validated the same way.
      load: () => loadFromArgs(args, io),
      watchFile: config.source === ENVIRONMENT_SOURCE ? null : config.source,
      sighup: true,
    },
  });
  const signal = await untilSignal(() => {
    logger.warn("second signal: exiting now");
    process.exit(1);
  });
  logger.info({ signal }, "shutting down");
  await daemon.stop(SHUTDOWN_GRACE_MS);
  logger.info("stopped");
  return 0;
}
