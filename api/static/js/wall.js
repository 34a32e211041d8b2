// The printer wall: one card per printer. A card is built once and afterwards only the fields
// whose values changed are written, so a wall of hundreds of printers stays cheap to update.

import { printerButtons } from "./actions.js";
import { keyed } from "./api.js";
import { clock, duration, natural, percent, stateWords, temp } from "./format.js";
import { nowMs, state } from "./store.js";

const CARD_HTML = `
  <header class="card-head">
    <div class="card-title"><span class="card-name"></span><span class="card-sub"></span></div>
    <span class="badge card-state"></span>
  </header>
  <div class="card-job">
    <div class="thumb"><img class="card-preview" alt="" loading="lazy" decoding="async" hidden></div>
    <div class="card-job-text">
      <div class="card-part"></div>
      <div class="progress"><div class="progress-fill"></div></div>
      <div class="card-progress-text muted"></div>
    </div>
  </div>
  <div class="card-message"></div>
  <div class="card-facts">
    <span class="fact" title="hotend actual / target"><span class="fact-k">Nozzle</span> <span class="t-hotend"></span></span>
    <span class="fact" title="bed actual / target"><span class="fact-k">Bed</span> <span class="t-bed"></span></span>
    <span class="fact filament" title="loaded filament"><span class="swatch"></span><span class="filament-text"></span></span>
    <span class="fact bed-clear"></span>
  </div>
  <div class="card-actions"></div>`;

/** Write `value` with `apply` only when it differs from the last value written under `key`. */
function put(card, key, value, apply) {
  if (card.last[key] === value) return;
  card.last[key] = value;
  apply(value);
}

/** "209/210°" while a target is set, "23°" without one. */
function tempText(t) {
  if (!t || t.actual == null) return "–";
  return t.target ? `${Math.round(t.actual)}/${temp(t.target)}` : temp(t.actual);
}

function tempOff(t) {
  // Heating or cooling towards a target more than 3° away: shown in the warning colour.
  return Boolean(t?.target) && Math.abs((t.actual ?? 0) - t.target) > 3;
}

function previewUrl(current) {
  if (!current?.job_id) return null;
  const job = state.jobs.get(current.job_id);
  const path = job ? job.preview_url : `/api/jobs/${encodeURIComponent(current.job_id)}/preview`;
  return path ? keyed(path) : null;
}

function idleText(p) {
  if (p.state === "offline") return "Not connected";
  if (p.state === "maintenance") return "In maintenance";
  if (p.state === "error") return "Stopped";
  return "Nothing printing";
}

function makeCard(printer) {
  const el = document.createElement("article");
  el.className = "card";
  el.dataset.printer = printer.id;
  el.innerHTML = CARD_HTML;
  const q = (sel) => el.querySelector(sel);
  // No preview yet (still slicing) or none at all: an empty thumb, not a broken image.
  q(".card-preview").addEventListener("error", (event) => (event.target.hidden = true));
  return {
    el,
    last: {},
    name: q(".card-name"),
    sub: q(".card-sub"),
    badge: q(".card-state"),
    preview: q(".card-preview"),
    part: q(".card-part"),
    fill: q(".progress-fill"),
    bar: q(".progress"),
    progressText: q(".card-progress-text"),
    message: q(".card-message"),
    hotend: q(".t-hotend"),
    bed: q(".t-bed"),
    swatch: q(".swatch"),
    filament: q(".filament-text"),
    bedClear: q(".bed-clear"),
    actions: q(".card-actions"),
  };
}

function updateCard(card, p) {
  const c = p.current;
  put(card, "state", p.state, (v) => {
    card.el.dataset.state = v;
    card.badge.textContent = stateWords(v);
  });
  put(card, "name", p.name, (v) => {
    card.name.textContent = v;
    card.el.setAttribute("aria-label", v);
  });
  put(card, "sub", `${p.id} · ${p.model ?? p.profile ?? ""}`, (v) => (card.sub.textContent = v));
  put(card, "part", c ? c.name : idleText(p), (v) => (card.part.textContent = v));
  card.el.classList.toggle("is-busy", Boolean(c));
  put(card, "preview", previewUrl(c), (v) => {
    card.preview.hidden = !v;
    if (v) card.preview.src = v;
    else card.preview.removeAttribute("src");
  });
  const progress = c ? percent(c.progress) : "";
  put(card, "progress", progress, (v) => {
    card.fill.style.transform = `scaleX(${c ? Math.max(0, Math.min(1, c.progress)) : 0})`;
    card.bar.hidden = !v;
    card.bar.dataset.progress = c ? String(c.progress) : "";
  });
  const layer = c?.layer != null ? `layer ${c.layer}${c.layers ? `/${c.layers}` : ""}` : "";
  const left = c?.remaining_s != null ? `${duration(c.remaining_s)} left (${clock(nowMs() + c.remaining_s * 1000)})` : "";
  const detail = c ? [progress, layer, left].filter(Boolean).join(" · ") : "";
  put(card, "progressText", detail, (v) => (card.progressText.textContent = v));
  put(card, "message", p.message ?? "", (v) => {
    card.message.textContent = v;
    card.message.hidden = !v;
  });
  const hot = p.temps?.hotend;
  const bed = p.temps?.bed;
  put(card, "hotend", `${tempText(hot)}|${tempOff(hot)}`, () => {
    card.hotend.textContent = tempText(hot);
    card.hotend.classList.toggle("temp-off", tempOff(hot));
  });
  put(card, "bed", `${tempText(bed)}|${tempOff(bed)}`, () => {
    card.bed.textContent = tempText(bed);
    card.bed.classList.toggle("temp-off", tempOff(bed));
  });
  put(card, "swatch", p.color_hex ?? "", (v) => (card.swatch.style.background = v || "transparent"));
  put(card, "filament", `${p.material ?? "no filament"} ${p.color ?? ""}`.trim(), (v) => {
    card.filament.textContent = v;
  });
  // While a print is on it, the bed is in use: "clear" says something only between prints.
  const inUse = p.state === "printing" || p.state === "paused";
  put(card, "bedClear", inUse ? "" : String(p.bed_clear), (v) => {
    card.bedClear.textContent = v ? (p.bed_clear ? "Bed clear" : "Bed not clear") : "";
    card.bedClear.hidden = !v;
    card.bedClear.classList.toggle("warn", !p.bed_clear);
  });
  put(card, "actions", printerButtons(p), (v) => (card.actions.innerHTML = v));
}

/** The printer wall view over `root`, with a filter (state set + search text). */
export function createWall(root, countEl) {
  const cards = new Map();
  const filter = { states: new Set(), text: "" };

  function visible(p) {
    if (filter.states.size && !filter.states.has(p.state)) return false;
    if (!filter.text) return true;
    const hay = `${p.id} ${p.name} ${p.model} ${p.material} ${p.current?.name ?? ""}`.toLowerCase();
    return hay.includes(filter.text);
  }

  function applyFilter(card, p) {
    const show = visible(p);
    if (card.el.hidden === show) card.el.hidden = !show;
  }

  function rebuild() {
    const ids = [...state.printers.keys()].sort(natural);
    const fragment = document.createDocumentFragment();
    for (const id of ids) {
      let card = cards.get(id);
      if (!card) {
        card = makeCard(state.printers.get(id));
        cards.set(id, card);
      }
      fragment.append(card.el);
    }
    for (const [id, card] of cards) {
      if (!state.printers.has(id)) {
        card.el.remove();
        cards.delete(id);
      }
    }
    root.replaceChildren(fragment);
  }

  function render(changes) {
    if (changes.roster || changes.all) rebuild();
    const ids = changes.all ? state.printers.keys() : changes.printers;
    for (const id of ids) {
      const p = state.printers.get(id);
      const card = cards.get(id);
      if (!p || !card) continue;
      updateCard(card, p);
      applyFilter(card, p);
    }
    // A job's preview URL may arrive after the printer started it.
    if (changes.jobs.size) {
      for (const [id, card] of cards) {
        const p = state.printers.get(id);
        if (p?.current && changes.jobs.has(p.current.job_id)) updateCard(card, p);
      }
    }
    if (countEl) {
      const shown = [...cards.values()].filter((c) => !c.el.hidden).length;
      const text = shown === cards.size ? `${cards.size}` : `${shown} of ${cards.size}`;
      if (countEl.textContent !== text) countEl.textContent = text;
    }
  }

  return { render, filter };
}

const DENSITY_KEY = "slicefarm.density";
const COMPACT_FROM_PRINTERS = 48;

/**
 * Cards or compact tiles (buttons #density-cards / #density-compact): the operator's choice,
 * else compact for large farms. A click on a compact tile opens it into a full card.
 */
export function createDensity(wall) {
  const button = (density) => document.getElementById(`density-${density}`);
  const apply = (density) => {
    wall.classList.toggle("compact", density === "compact");
    button("cards").setAttribute("aria-pressed", String(density !== "compact"));
    button("compact").setAttribute("aria-pressed", String(density === "compact"));
  };
  for (const density of ["cards", "compact"]) {
    button(density).addEventListener("click", () => {
      localStorage.setItem(DENSITY_KEY, density);
      apply(density);
    });
  }
  wall.addEventListener("click", (event) => {
    if (!wall.classList.contains("compact") || event.target.closest("button")) return;
    event.target.closest(".card")?.classList.toggle("open");
  });
  let decided = false;
  return (changes) => {
    if (decided || !changes.all || !state.printers.size) return;
    decided = true;
    const many = state.printers.size >= COMPACT_FROM_PRINTERS;
    apply(localStorage.getItem(DENSITY_KEY) ?? (many ? "compact" : "cards"));
  };
}

/** Scroll a printer's card into view and flash it (from the to-do list). */
export function showPrinter(id) {
  const card = document.querySelector(`.card[data-printer="${CSS.escape(id)}"]`);
  if (!card) return;
  card.hidden = false;
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.classList.remove("flash");
  void card.offsetWidth; // restart the animation
  card.classList.add("flash");
}
