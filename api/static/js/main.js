// The dashboard's entry point: login by API key, first load, live events, and the header.

import { installActions } from "./actions.js";
import { api } from "./api.js";
import { adoptKeyFromHash, clearKey, loadKey, saveKey } from "./auth.js";
import { connectEvents } from "./events.js";
import { clock } from "./format.js";
import { createGantt } from "./gantt.js";
import { createHeader } from "./header.js";
import { createQueue } from "./queue.js";
import { addView, nowMs, refreshAll, setFarm, setJobs, setPlan, setPrinters } from "./store.js";
import { createTodo } from "./todo.js";
import { toast } from "./toast.js";
import { createUpload } from "./upload.js";
import { installTheme } from "./theme.js";
import { createDensity, createWall, showPrinter } from "./wall.js";

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

function startViews() {
  const wall = createWall($("wall"), $("wall-count"));
  const gantt = createGantt($("gantt"), $("tooltip"), $("plan-summary"), showPrinter);
  const queue = createQueue(
    $("queue-body"),
    $("queue-count"),
    () => $("show-finished").checked,
    () => wall.filter.text,
  );
  const todo = createTodo($("todo"), $("todo-count"), showPrinter);
  addView(createHeader(wall.filter));
  addView(createDensity($("wall")));
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
  installTheme($("theme"));
  adoptKeyFromHash();
  // A kiosk link opened on a page that is already open: take the new key and start afresh.
  window.addEventListener("hashchange", () => {
    if (!location.hash.includes("key=")) return;
    adoptKeyFromHash();
    location.reload();
  });
  $("login-form").addEventListener("submit", tryLogin);
  const message = sessionStorage.getItem("slicefarm.loginMessage");
  sessionStorage.removeItem("slicefarm.loginMessage");
  if (loadKey()) start();
  else showLogin(message ?? "");
}

boot();
