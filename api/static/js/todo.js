// The operator to-do list in time order: printers that need someone now, then the plan's
// upcoming tasks (clear a bed, load a filament, start a print), each with its one-click action.

import { actionButton } from "./actions.js";
import { clock, esc, natural, relative, stateWords } from "./format.js";
import { nowMs, state } from "./store.js";

const ATTENTION = new Set(["needs_operator", "error", "paused"]);

function attentionItems() {
  const items = [];
  for (const p of state.printers.values()) {
    if (!ATTENTION.has(p.state)) continue;
    const buttons = [];
    if (p.state === "paused") buttons.push(actionButton("resume", { printer: esc(p.id), primary: true }));
    if (!p.bed_clear) buttons.push(actionButton("bed_cleared", { printer: esc(p.id), primary: true }));
    if (p.state === "needs_operator") buttons.push(actionButton("filament_loaded", { printer: esc(p.id) }));
    if (p.state === "error") buttons.push(actionButton("maintenance_on", { printer: esc(p.id) }));
    items.push({
      key: `now:${p.id}:${p.state}:${p.bed_clear}:${p.message ?? ""}`,
      at: null,
      printer: p.id,
      kind: p.state,
      text: p.message || `${p.name} is ${stateWords(p.state)}`,
      buttons,
    });
  }
  return items.sort((a, b) => natural(a.printer, b.printer));
}

function taskButtons(task) {
  const printer = esc(task.printer_id);
  if (task.kind === "clear") return [actionButton("bed_cleared", { printer, primary: true })];
  if (task.kind === "load") {
    const extra = { printer, material: esc(task.material), color: esc(task.color) };
    return [
      actionButton("filament_loaded", { ...extra, label: "Loaded", primary: true }),
      actionButton("filament_ask", { ...extra, label: "Other…" }),
    ];
  }
  // "start": the dispatcher starts the print once the bed is clear and the filament loaded;
  // the contract has no start action, so the operator gets the printer's card to act on.
  return [`<button type="button" class="btn" data-show="${printer}">Show</button>`];
}

function planItems(plan) {
  const items = (plan?.todo ?? []).map((t) => ({
    key: `plan:${t.at}:${t.printer_id}:${t.kind}:${t.job_id}`,
    at: t.at,
    printer: t.printer_id,
    kind: t.kind,
    text: t.text,
    buttons: taskButtons(t),
  }));
  return items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function itemHtml(item, now) {
  const printer = state.printers.get(item.printer);
  const time = item.at
    ? `<time class="${Date.parse(item.at) < now ? "late" : ""}">${esc(clock(Date.parse(item.at)))}</time><span class="muted small">${esc(relative(item.at, now))}</span>`
    : `<time class="late">now</time>`;
  return `<li class="todo-item todo-${esc(item.kind)}" data-printer="${esc(item.printer)}">
    <div class="todo-when">${time}</div>
    <div class="todo-what"><div class="todo-text">${esc(item.text)}</div>
      <div class="muted small">${esc(printer?.name ?? item.printer)} · ${esc(stateWords(item.kind))}</div>
      <div class="todo-actions">${item.buttons.join("")}</div></div></li>`;
}

/** The to-do view over an <ol>. */
export function createTodo(list, countEl, onShowPrinter) {
  let lastHtml = "";

  list.addEventListener("click", (event) => {
    const show = event.target.closest("button[data-show]");
    if (show) onShowPrinter(show.dataset.show);
  });

  function render(changes) {
    const attentionChanged = [...changes.printers].some((id) => {
      const p = state.printers.get(id);
      return p && (ATTENTION.has(p.state) || list.querySelector(`[data-printer="${CSS.escape(id)}"]`));
    });
    if (!(changes.plan || changes.all || attentionChanged)) return;
    const now = nowMs();
    const items = [...attentionItems(), ...planItems(state.plan)];
    const html = items.length
      ? items.map((i) => itemHtml(i, now)).join("")
      : `<li class="empty-note">Nothing to do. Every printer is busy or waiting for work.</li>`;
    if (html !== lastHtml) {
      list.innerHTML = html;
      lastHtml = html;
    }
    if (countEl) countEl.textContent = items.length ? String(items.length) : "";
  }

  return { render };
}
