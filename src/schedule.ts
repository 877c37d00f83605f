// Facts about a node-cron schedule that other parts need: the interval between two runs (the first
// rotation backoff step is one interval).
import cron from "node-cron";

export function scheduleIntervalMs(expression: string, from: Date = new Date()): number {
  const task = cron.createTask(expression, () => undefined);
  try {
    const runs = task.getNextRuns(3).filter((run) => run > from);
    const [first, second] = runs;
    return first && second ? second.getTime() - first.getTime() : 60_000;
  } finally {
    void task.destroy();
  }
}
