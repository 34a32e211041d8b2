// The live event stream (/api/events?key=...): printer, job and plan events into the store.

import { keyed } from "./api.js";
import { setJob, setPrinter } from "./store.js";

/**
 * Open the stream. `onStatus("live" | "reconnecting")` reports the connection, `onPlan()` is
 * called when the plan changed, `onResync()` after a reconnect (events may have been missed).
 */
export function connectEvents({ onStatus, onPlan, onResync }) {
  const source = new EventSource(keyed("/api/events"));
  let wasDown = false;
  source.addEventListener("open", () => {
    onStatus("live");
    if (wasDown) onResync();
    wasDown = false;
  });
  source.addEventListener("error", () => {
    wasDown = true;
    onStatus(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
  });
  source.addEventListener("printer", (e) => setPrinter(JSON.parse(e.data)));
  source.addEventListener("job", (e) => setJob(JSON.parse(e.data)));
  source.addEventListener("plan", () => onPlan());
  return source;
}
