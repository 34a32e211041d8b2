// Operator actions on printers and jobs, shared by the printer wall, the to-do list and the queue.
// A button gets data-act (and data-printer / data-job); one delegated click handler runs it.

import { api } from "./api.js";
import { setJob, setPrinter } from "./store.js";
import { toast } from "./toast.js";

const CONFIRM_MS = 3000;
// Actions that destroy work need a second click within CONFIRM_MS.
const DESTRUCTIVE = new Set(["cancel", "cancel_job"]);

export const PRINTER_ACTIONS = {
  pause: "Pause",
  resume: "Resume",
  cancel: "Cancel",
  bed_cleared: "Bed cleared",
  filament_loaded: "Load filament",
  maintenance_on: "Maintenance",
  maintenance_off: "Back in service",
};

/** The actions that fit a printer's state, in button order. */
export function actionsFor(printer) {
  switch (printer.state) {
    case "printing":
      return ["pause", "cancel"];
    case "paused":
      return ["resume", "cancel"];
    case "needs_operator":
    case "idle":
      return [...(printer.bed_clear ? [] : ["bed_cleared"]), "filament_loaded", "maintenance_on"];
    case "error":
      return ["maintenance_on"];
    case "maintenance":
      return ["maintenance_off"];
    default:
      return [];
  }
}

/** Markup of one action button. */
export function actionButton(act, { printer, job, label, material, color, primary } = {}) {
  const attrs = [`data-act="${act}"`];
  if (printer) attrs.push(`data-printer="${printer}"`);
  if (job) attrs.push(`data-job="${job}"`);
  if (material) attrs.push(`data-material="${material}"`);
  if (color) attrs.push(`data-color="${color}"`);
  const cls = ["btn", DESTRUCTIVE.has(act) ? "btn-danger" : "", primary ? "btn-primary" : ""];
  const text = label ?? PRINTER_ACTIONS[act] ?? act;
  return `<button type="button" class="${cls.join(" ").trim()}" ${attrs.join(" ")}>${text}</button>`;
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
  if (act === "filament_loaded" && !material) return askFilament(printer, null, null);
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
