// The top bar: printers per state (click a chip to filter the wall), the search box and a page
// title that counts the printers waiting for someone, for a dashboard left in a background tab.

import { stateWords } from "./format.js";
import { refreshAll, state } from "./store.js";

const STATES = ["printing", "needs_operator", "paused", "error", "idle", "maintenance", "offline"];
const $ = (id) => document.getElementById(id);

/** The header's state chips (counts, click to filter the wall), search box and page title. */
export function createHeader(filter) {
  const chips = $("state-filter");
  chips.innerHTML = STATES.map((s) =>
    `<button type="button" class="chip state-${s}" data-state="${s}" aria-pressed="false">
       <span class="dot"></span><span class="chip-n">0</span> ${stateWords(s)}</button>`).join("");
  chips.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-state]");
    if (!chip) return;
    const s = chip.dataset.state;
    if (filter.states.has(s)) filter.states.delete(s);
    else filter.states.add(s);
    chip.setAttribute("aria-pressed", String(filter.states.has(s)));
    refreshAll();
  });
  // "/" jumps to the search box, as in most tools; Escape clears it.
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, select, textarea, dialog");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      $("search").focus();
    } else if (event.key === "Escape" && event.target === $("search")) {
      $("search").value = "";
      $("search").dispatchEvent(new Event("input"));
    }
  });
  $("search").addEventListener("input", (event) => {
    filter.text = event.target.value.trim().toLowerCase();
    refreshAll();
  });
  return (changes) => {
    if (!(changes.all || changes.printers.size)) return;
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const p of state.printers.values()) counts[p.state] = (counts[p.state] ?? 0) + 1;
    const waiting = counts.needs_operator + counts.error;
    const farmName = state.farm?.name ?? "farm";
    document.title = `${waiting ? `(${waiting}) ` : ""}${farmName} · slicefarm`;
    for (const chip of chips.children) {
      const n = counts[chip.dataset.state] ?? 0;
      const el = chip.querySelector(".chip-n");
      if (el.textContent !== String(n)) el.textContent = String(n);
      chip.classList.toggle("zero", n === 0);
    }
  };
}
