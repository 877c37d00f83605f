// Runs an async step over many items with at most `limit` of them under way, results in item order.
// A scan of 1,000 integrations used to start 1,000 calls at once, which queued behind the client's
// semaphore anyway: building them all took one 40-60 ms stretch of the event loop right after the list
// answer, and kept 1,000 pending call chains alive for the whole scan.

export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  step: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await step(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
