// The operator to-do list in time order: printers that need someone now, then the plan's
// upcoming tasks (clear a bed, load a filament, start a print), each with its one-click action.

import { actionButton, printerButtons } from "./actions.js";
import { clock, esc, natural, relative, stateWords } from "./format.js";
import { nowMs, state } from "./store.js";

const ATTENTION = new Set(["needs_operator", "error", "paused"]);

function attentionItems() {
  const items = [];
  for (const p of state.printers.values()) {
    if (!ATTENTION.has(p.state)) continue;
    const buttons = [printerButtons(p)];
    items.push({
      at: null,
      printer: p.id,
      kind: p.state,
      text: p.message || `${p.name} is ${stateWords(p.state)}`,
      buttons,
    });
  }
  return items.sort((a, b) => natural(a.printer, b.printer));
}

const MAX_ITEMS = 60;
const SAME_TASK_MS = 120_000;

function taskButtons(task) {
  const printer = task.printer_id;
  if (task.kind === "clear") return [actionButton("bed_cleared", { printer, primary: true })];
  if (task.kind === "load") {
    const extra = { printer, material: task.material, color: task.color };
    return [
      actionButton("filament_loaded", { ...extra, label: "Loaded", primary: true }),
      actionButton("filament_ask", { ...extra, label: "Other…" }),
    ];
  }
  return [];
}

/**
 * The plan's tasks grouped per visit: the clear and load the operator does at one printer for
 * one print, followed by the print's start (which the dispatcher does by itself).
 */
function planItems(plan) {
  const groups = new Map();
  for (const t of plan?.todo ?? []) {
    const key = `${t.at}|${t.printer_id}|${t.job_id}`;
    if (!groups.has(key)) {
      groups.set(key, { at: t.at, printer: t.printer_id, kind: t.kind, texts: [], then: "", buttons: [] });
    }
    const group = groups.get(key);
    if (t.kind === "start") {
      group.then = t.text;
    } else {
      if (!group.texts.length) group.kind = t.kind;
      group.texts.push(t.text);
      group.buttons.push(...taskButtons(t));
    }
  }
  const items = [...groups.values()].map((g) => {
    if (!g.texts.length) {
      g.texts.push(g.then);
      g.then = "";
      g.buttons.push(`<button type="button" class="btn btn-quiet" data-show="${esc(g.printer)}">Show printer</button>`);
    }
    return { ...g, text: g.texts.join(", then ") };
  });
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
      <div class="muted small">${esc(printer?.name ?? item.printer)}${item.then ? ` · then ${esc(item.then)}` : ` · ${esc(stateWords(item.kind))}`}</div>
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
    if (!(changes.plan || changes.all || changes.farm || attentionChanged)) return;
    const now = nowMs();
    const attention = attentionItems();
    // A plan task due now at a printer that already asks for someone is the same task.
    const asking = new Set(attention.map((i) => i.printer));
    const upcoming = planItems(state.plan).filter(
      (i) => !(asking.has(i.printer) && Date.parse(i.at) <= now + SAME_TASK_MS),
    );
    const items = [...attention, ...upcoming];
    const shown = items.slice(0, MAX_ITEMS).map((i) => itemHtml(i, now));
    if (items.length > MAX_ITEMS) {
      shown.push(`<li class="empty-note">and ${items.length - MAX_ITEMS} more later</li>`);
    }
    const html = items.length
      ? shown.join("")
      : `<li class="empty-note">Nothing to do. Every printer is busy or waiting for work.</li>`;
    if (html !== lastHtml) {
      list.innerHTML = html;
      lastHtml = html;
    }
    if (countEl) countEl.textContent = items.length ? String(items.length) : "";
  }

  return { render };
}
