// Operator actions on printers and jobs, shared by the printer wall, the to-do list and the queue.
// A button gets data-act (and data-printer / data-job); one delegated click handler runs it.

import { api } from "./api.js";
import { esc } from "./format.js";
import { setJob, setPrinter, state } from "./store.js";
import { toast } from "./toast.js";

const CONFIRM_MS = 3000;
// Actions that destroy work need a second click within CONFIRM_MS.
const DESTRUCTIVE = new Set(["cancel", "cancel_job"]);

const PRINTER_ACTIONS = {
  pause: "Pause",
  resume: "Resume",
  cancel: "Cancel",
  bed_cleared: "Bed cleared",
  filament_loaded: "Load filament",
  maintenance_on: "Maintenance",
  maintenance_off: "Back in service",
};

// "load PETG red into P3 for J0001-1": an older service asks for a filament only in these words.
const LOAD_REQUEST = /\bload (\S+) (.+?) into\b/i;

/** The filament a printer waits for: {material, color} or null (printer.request, else the message). */
function requestedFilament(printer) {
  if (printer.request !== undefined) {
    const request = printer.request;
    return request?.kind === "load" ? { material: request.material, color: request.color } : null;
  }
  const match = LOAD_REQUEST.exec(printer.message ?? "");
  return match ? { material: match[1], color: match[2] } : null;
}

/**
 * The buttons an operator needs for a printer now: [{act, label?, material?, color?, primary?}].
 * A printer that waits for a filament gets a one-click "Loaded PETG red"; one that waits for
 * anything else (a finished or failed print on the bed, an error) is acknowledged with
 * bed_cleared, which also reconnects a printer in error.
 */
function operatorActions(printer) {
  const wanted = requestedFilament(printer);
  const load = wanted
    ? [
        { act: "filament_loaded", label: `Loaded ${wanted.material} ${wanted.color}`, ...wanted, primary: true },
        { act: "filament_ask", label: "Other…", ...wanted },
      ]
    : [];
  const clear = { act: "bed_cleared", primary: true };
  switch (printer.state) {
    case "printing":
      return [{ act: "pause" }, { act: "cancel" }];
    case "paused":
      return [{ act: "resume", primary: true }, { act: "cancel" }];
    case "needs_operator":
      if (!printer.bed_clear) return [clear, ...load];
      return load.length ? load : [{ ...clear, label: "Done" }, { act: "filament_loaded" }];
    case "idle":
      return [{ act: "filament_loaded" }, { act: "maintenance_on" }];
    case "error":
      return [{ ...clear, label: "Bed cleared, reset" }, { act: "maintenance_on" }];
    case "maintenance":
      return [{ act: "maintenance_off", primary: true }];
    case "offline":
      return [{ act: "maintenance_on" }];
    default:
      return [];
  }
}

/** Markup of one action button (every value is escaped here). */
export function actionButton(act, { printer, job, label, material, color, primary } = {}) {
  const data = { act, printer, job, material, color };
  const attrs = Object.entries(data)
    .filter(([, v]) => v != null && v !== "")
    .map(([k, v]) => `data-${k}="${esc(v)}"`);
  const cls = ["btn", DESTRUCTIVE.has(act) ? "btn-danger" : "", primary ? "btn-primary" : ""];
  const text = label ?? PRINTER_ACTIONS[act] ?? act;
  return `<button type="button" class="${cls.filter(Boolean).join(" ")}" ${attrs.join(" ")}>${esc(text)}</button>`;
}

/** Markup of a printer's operator buttons (see operatorActions). */
export function printerButtons(printer) {
  return operatorActions(printer)
    .map(({ act, ...rest }) => actionButton(act, { printer: printer.id, ...rest }))
    .join("");
}

async function runPrinterAction(printerId, act, extra) {
  const printer = await api.action(printerId, act, extra);
  if (printer?.id) setPrinter(printer);
  return printer;
}

/** Ask for material and colour (prefilled), then send filament_loaded. */
function askFilament(printerId, material, color) {
  const dialog = document.getElementById("filament-dialog");
  const form = dialog.querySelector("form");
  form.elements.material.value = material ?? "PLA";
  form.elements.color.value = color ?? "black";
  dialog.querySelector(".dialog-title").textContent = `Filament loaded into ${printerId}`;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "ok") return;
    const extra = { material: form.elements.material.value.trim(), color: form.elements.color.value.trim() };
    try {
      await runPrinterAction(printerId, "filament_loaded", extra);
      toast(`${printerId}: ${extra.material} ${extra.color} loaded`);
    } catch (error) {
      toast(`${printerId}: ${error.message}`, "error");
    }
  };
  dialog.showModal();
  form.elements.material.focus();
}

function armed(button) {
  if (button.dataset.armed) return true;
  button.dataset.armed = "1";
  const label = button.textContent;
  button.textContent = "Sure?";
  button.classList.add("armed");
  setTimeout(() => {
    delete button.dataset.armed;
    button.textContent = label;
    button.classList.remove("armed");
  }, CONFIRM_MS);
  return false;
}

async function run(button) {
  const { act, printer, job, material, color } = button.dataset;
  if (act === "filament_loaded" && !material) {
    const loaded = state.printers.get(printer);
    return askFilament(printer, loaded?.material, loaded?.color);
  }
  if (act === "filament_ask") return askFilament(printer, material, color);
  if (DESTRUCTIVE.has(act) && !armed(button)) return;
  button.disabled = true;
  try {
    if (act === "cancel_job") setJob(await api.cancelJob(job));
    else if (act === "retry_job") setJob(await api.retryJob(job));
    else await runPrinterAction(printer, act, act === "filament_loaded" ? { material, color } : {});
  } catch (error) {
    toast(`${printer ?? job}: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

/** One click handler for every action button under `root`. */
export function installActions(root) {
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-act]");
    if (button && !button.disabled) run(button);
  });
}
