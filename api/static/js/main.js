// The dashboard's entry point: login by API key, first load, live events, and the header.

import { installActions } from "./actions.js";
import { api } from "./api.js";
import { adoptKeyFromHash, clearKey, loadKey, saveKey } from "./auth.js";
import { connectEvents } from "./events.js";
import { clock, stateWords } from "./format.js";
import { createGantt } from "./gantt.js";
import { createQueue } from "./queue.js";
import { addView, nowMs, refreshAll, setFarm, setJobs, setPlan, setPrinters, state } from "./store.js";
import { createTodo } from "./todo.js";
import { toast } from "./toast.js";
import { createUpload } from "./upload.js";
import { createWall } from "./wall.js";

const STATES = ["printing", "needs_operator", "paused", "error", "idle", "maintenance", "offline"];
const FARM_REFRESH_MS = 60_000;

const $ = (id) => document.getElementById(id);
let source = null;
let started = false;

function showLogin(message = "") {
  source?.close();
  source = null;
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-key").focus();
}

function logout() {
  clearKey();
  // A fresh page holds no farm data: no key, no data.
  location.replace(location.pathname);
}

function handleFatal(error) {
  if (error?.unauthorized) {
    clearKey();
    sessionStorage.setItem("slicefarm.loginMessage", "The farm service refused this API key.");
    location.replace(location.pathname);
    return true;
  }
  return false;
}

// --- plan fetching: coalesce bursts of plan events into one request at a time ---
let planInFlight = false;
let planAgain = false;

async function refreshPlan() {
  if (planInFlight) {
    planAgain = true;
    return;
  }
  planInFlight = true;
  try {
    setPlan(await api.plan());
  } catch (error) {
    if (!handleFatal(error)) toast(`plan: ${error.message}`, "error");
  } finally {
    planInFlight = false;
    if (planAgain) {
      planAgain = false;
      refreshPlan();
    }
  }
}

async function loadAll() {
  const [farm, printers, jobs] = await Promise.all([api.farm(), api.printers(), api.jobs()]);
  setFarm(farm);
  setPrinters(printers);
  setJobs(jobs);
  $("farm-name").textContent = farm.name ?? "";
  await refreshPlan();
}

function setLive(status) {
  const el = $("live");
  el.dataset.status = status;
  el.textContent = { live: "live", reconnecting: "reconnecting…", closed: "offline" }[status] ?? status;
}

function headerView(wall) {
  const chips = $("state-filter");
  chips.innerHTML = STATES.map((s) =>
    `<button type="button" class="chip state-${s}" data-state="${s}" aria-pressed="false">
       <span class="dot"></span><span class="chip-n">0</span> ${stateWords(s)}</button>`).join("");
  chips.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-state]");
    if (!chip) return;
    const s = chip.dataset.state;
    if (wall.filter.states.has(s)) wall.filter.states.delete(s);
    else wall.filter.states.add(s);
    chip.setAttribute("aria-pressed", String(wall.filter.states.has(s)));
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
    wall.filter.text = event.target.value.trim().toLowerCase();
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

const DENSITY_KEY = "slicefarm.density";
const COMPACT_FROM_PRINTERS = 48;

/** Cards or compact tiles: the operator's choice, else compact for large farms. */
function densityControl() {
  const wall = $("wall");
  const apply = (density) => {
    wall.classList.toggle("compact", density === "compact");
    $("density-cards").setAttribute("aria-pressed", String(density !== "compact"));
    $("density-compact").setAttribute("aria-pressed", String(density === "compact"));
  };
  for (const density of ["cards", "compact"]) {
    $(`density-${density}`).addEventListener("click", () => {
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

function showPrinter(id) {
  const card = document.querySelector(`.card[data-printer="${CSS.escape(id)}"]`);
  if (!card) return;
  card.hidden = false;
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.classList.remove("flash");
  void card.offsetWidth; // restart the animation
  card.classList.add("flash");
}

function startViews() {
  const wall = createWall($("wall"), $("wall-count"));
  const gantt = createGantt($("gantt"), $("tooltip"), $("plan-summary"));
  const queue = createQueue($("queue-body"), $("queue-count"), () => $("show-finished").checked);
  const todo = createTodo($("todo"), $("todo-count"), showPrinter);
  addView(headerView(wall));
  addView(densityControl());
  addView(wall.render);
  addView(gantt.render);
  addView(todo.render);
  addView(queue.render);
  $("gantt-span").addEventListener("change", (event) => gantt.setSpan(event.target.value));
  $("show-finished").addEventListener("change", refreshAll);
  createUpload($("upload"));
  installActions(document.body);
  $("logout").addEventListener("click", () => logout());
  setInterval(() => ($("clock").textContent = clock(nowMs())), 1000);
  $("clock").textContent = clock(nowMs());
  setInterval(async () => {
    try {
      setFarm(await api.farm());
    } catch (error) {
      handleFatal(error);
    }
  }, FARM_REFRESH_MS);
}

async function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  if (!started) {
    startViews();
    started = true;
  }
  setLive("reconnecting");
  source = connectEvents({
    onStatus: setLive,
    onPlan: refreshPlan,
    loadSnapshot: () => loadAll().catch((error) => handleFatal(error) || toast(error.message, "error")),
    // EventSource reports no HTTP status: when the stream breaks, ask the API why (a revoked key?).
    onError: () => api.farm().catch(handleFatal),
  });
}

async function tryLogin(event) {
  event.preventDefault();
  const key = $("login-key").value.trim();
  if (!key) return;
  saveKey(key);
  try {
    await api.farm();
  } catch (error) {
    clearKey();
    $("login-error").textContent = error.unauthorized
      ? "The farm service refused this API key."
      : error.message;
    return;
  }
  start();
}

function boot() {
  adoptKeyFromHash();
  $("login-form").addEventListener("submit", tryLogin);
  const message = sessionStorage.getItem("slicefarm.loginMessage");
  sessionStorage.removeItem("slicefarm.loginMessage");
  if (loadKey()) start();
  else showLogin(message ?? "");
}

boot();
