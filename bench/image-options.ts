// How the container image starts the daemon, read from the Dockerfile itself so that the bench measures
// what ships: the runtime stage's NODE_OPTIONS (V8's heap flags), its other process settings (glibc's
// malloc settings) and the node flags of its ENTRYPOINT.

import { readFileSync } from "node:fs";
import { nodeProcess, parseDockerfile } from "../test/deploy/dockerfile.js";

const DOCKERFILE = new URL("../../Dockerfile", import.meta.url);

export interface ImageRuntime {
  /** NODE_OPTIONS, split. */
  readonly nodeOptions: readonly string[];
  /** NODE_OPTIONS and the MALLOC_* settings, as the daemon's environment gets them. */
  readonly env: Readonly<Record<string, string>>;
  /** The ENTRYPOINT's flags between `node` and the script. */
  readonly nodeArgs: readonly string[];
}

export function imageRuntime(): ImageRuntime {
  const { env, nodeArgs } = nodeProcess(parseDockerfile(readFileSync(DOCKERFILE, "utf8")));
  const options = env.NODE_OPTIONS;
  if (!options) throw new Error("the Dockerfile's runtime stage sets no NODE_OPTIONS");
  return { nodeOptions: options.split(/\s+/), env, nodeArgs };
}

/** One line for reports: `NODE_OPTIONS=... MALLOC_ARENA_MAX=2 ... node --optimize-for-size`. */
export function imageSettings(image: ImageRuntime): string {
  const env = Object.entries(image.env).map(
    ([name, value]) => `${name}=${value.includes(" ") ? JSON.stringify(value) : value}`,
  );
  return [...env, "node", ...image.nodeArgs].join(" ");
}
