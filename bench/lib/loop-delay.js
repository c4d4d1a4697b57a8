import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Event-loop delay: how late a 1 ms timer fires, i.e. how long the process was busy (or paused, for
 * GC) when something became ready. A latency tail that the server's or the load generator's loop delay
 * already shows comes from that process's own stalls, not from the code under test's request path.
 */
export function loopDelayRecorder() {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  return {
    start() {
      histogram.reset();
      histogram.enable();
    },
    /** Stops recording; percentiles in ms. */
    read() {
      histogram.disable();
      return {
        p50: histogram.percentile(50) / 1e6,
        p99: histogram.percentile(99) / 1e6,
        max: histogram.max / 1e6,
      };
    },
  };
}

/**
 * In a server script started by startServerProcess: records its own loop delay when the harness asks
 * (`loop-delay:start`) and reports it (`loop-delay:read` → `{ loopDelay }`). Off until asked, so the
 * throughput rounds pay nothing for it.
 */
export function answerLoopDelayQueries() {
  const recorder = loopDelayRecorder();
  process.on('message', (message) => {
    if (message === 'loop-delay:start') recorder.start();
    else if (message === 'loop-delay:read') process.send({ loopDelay: recorder.read() });
  });
}
