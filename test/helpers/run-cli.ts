// Runs a command of the CLI in-process through main(), with its own environment and working directory,
// and collects what it wrote. Nothing reaches the real stdout/stderr or process.env.
import { Writable } from "node:stream";
import { main } from "../../src/cli/main.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runCli(
  argv: readonly string[],
  options: { readonly env: Record<string, string | undefined>; readonly cwd: string },
): Promise<CliRun> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await main(argv, { stdout, stderr, env: options.env, cwd: options.cwd, isTty: false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
