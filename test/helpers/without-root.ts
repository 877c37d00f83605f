// Runs a piece of a test as an ordinary user when the tests run as root (CI does): root reads and writes
// through any permission bits, so a test of EACCES would otherwise see success. Switches only the effective
// uid, and back as soon as the action settles; the test files run in forked processes (vitest.config.ts),
// so no other test shares the process meanwhile.

/** The conventional uid of `nobody`: owns nothing, needs no entry in /etc/passwd. */
const NOBODY = 65534;

/** `action()` with nobody's effective uid if this process is root, as this user otherwise. */
export function withoutRoot<T>(action: () => T): T {
  const { seteuid } = process;
  if (process.getuid?.() !== 0 || seteuid === undefined) return action();
  seteuid(NOBODY);
  let result: T;
  try {
    result = action();
  } catch (error) {
    seteuid(0);
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => seteuid(0)) as T;
  seteuid(0);
  return result;
}
