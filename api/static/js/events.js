// The live event stream (/api/events?key=...): printer, job and plan events into the store.
// The stream opens first and the snapshot (GET /api/...) is loaded on every (re)open; events
// that arrive while the snapshot loads are held and applied after it, so none is lost.

import { keyed } from "./api.js";
import { setJob, setPrinter } from "./store.js";

const APPLY = { printer: setPrinter, job: setJob };
const REOPEN_MS = 5000;

/**
 * Open the stream. `onStatus("live" | "reconnecting" | "closed")` reports the connection,
 * `loadSnapshot()` (async) reloads everything, `onPlan()` is called when the plan changed and
 * `onError()` when the stream broke.
 */
export function connectEvents({ onStatus, loadSnapshot, onPlan, onError }) {
  let source = null;
  let held = null; // events received while a snapshot loads
  let stopped = false;

  const receive = (type) => (event) => {
    const body = JSON.parse(event.data);
    if (held) held.push([type, body]);
    else APPLY[type](body);
  };

  function open() {
    source = new EventSource(keyed("/api/events"));
    source.addEventListener("open", async () => {
      onStatus("live");
      held = [];
      try {
        await loadSnapshot();
      } finally {
        const replay = held;
        held = null;
        for (const [type, body] of replay) APPLY[type](body);
      }
    });
    source.addEventListener("error", () => {
      const closed = source.readyState === EventSource.CLOSED;
      onStatus(closed ? "closed" : "reconnecting");
      onError();
      // The browser retries by itself unless the answer was not an event stream at all.
      if (closed && !stopped) setTimeout(() => stopped || open(), REOPEN_MS);
    });
    source.addEventListener("printer", receive("printer"));
    source.addEventListener("job", receive("job"));
    source.addEventListener("plan", () => onPlan());
  }

  open();
  return {
    close() {
      stopped = true;
      source?.close();
    },
  };
}
