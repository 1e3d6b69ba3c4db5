/**
 * The server's delivery loop: one pass of `deliverDue` every `intervalMs` (never two passes of
 * this loop at once), until `stop()`, which waits for the pass under way. `kick()` asks for a pass
 * now (e.g. right after a login code is written). Timers do not keep the process alive.
 */
import type { Ctx } from '../context.ts';
import { deliverDue, type DeliveryOptions, type DeliveryReport } from './deliver.ts';

export interface OutboxLoop {
  /** A pass as soon as the current one (if any) ends. */
  kick(): void;
  /** Runs one pass now and waits for it (tests, shutdown). */
  runOnce(): Promise<DeliveryReport | undefined>;
  stop(): Promise<void>;
}

export function startOutboxLoop(
  ctx: Ctx,
  o: DeliveryOptions & { intervalMs?: number; onError?: (e: unknown) => void },
): OutboxLoop {
  const interval = o.intervalMs ?? 2000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<DeliveryReport | undefined> | undefined;
  let again = false;

  const pass = (): Promise<DeliveryReport | undefined> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        return await deliverDue(ctx, o);
      } catch (e) {
        // the database went away, or a bug: say so (no content), try again next time
        o.onError?.(e);
        return undefined;
      } finally {
        running = undefined;
        if (!stopped) schedule(again ? 0 : interval);
        again = false;
      }
    })();
    return running;
  };
  const schedule = (ms: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void pass(), ms);
    timer.unref();
  };
  schedule(0);
  return {
    kick() {
      if (!stopped) {
        if (running) again = true;
        else schedule(0);
      }
    },
    runOnce: () => pass(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await o.sender.close?.();
    },
  };
}
