// The V8 flags the container image starts the daemon with: the runtime stage's NODE_OPTIONS, read from
// the Dockerfile itself, so that the bench measures the memory of what ships.

import { readFileSync } from "node:fs";
import { parseDockerfile, runtimeEnv } from "../test/deploy/dockerfile.js";

const DOCKERFILE = new URL("../../Dockerfile", import.meta.url);

export function imageNodeOptions(): string[] {
  const env = runtimeEnv(parseDockerfile(readFileSync(DOCKERFILE, "utf8")));
  const options = env.get("NODE_OPTIONS");
  if (!options) throw new Error("the Dockerfile's runtime stage sets no NODE_OPTIONS");
  return options.split(/\s+/);
}
