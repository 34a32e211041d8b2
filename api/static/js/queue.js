// The queue table: job, copies done/total, material, due, state, with cancel and retry.
// Rows are keyed by job id and rewritten only when that job changed.

import { actionButton } from "./actions.js";
import { keyed } from "./api.js";
import { cssColor, duration, esc, relative, stateWords, when } from "./format.js";
import { detailHtml, downloadGcode } from "./jobdetail.js";
import { nowMs, state } from "./store.js";

const FINISHED = new Set(["done", "cancelled"]);
const CANCELLABLE = new Set(["slicing", "queued", "printing"]);
const RETRYABLE_PRINTS = new Set(["failed", "cancelled", "interrupted"]);

function canRetry(job) {
  return job.state === "failed" || job.state === "cancelled" ||
    (job.prints ?? []).some((p) => RETRYABLE_PRINTS.has(p.state));
}

function isLate(job, now) {
  return Boolean(job.due) && !FINISHED.has(job.state) && Date.parse(job.due) < now;
}

function swatch(color) {
  const css = cssColor(color);
  return `<span class="swatch${css ? "" : " swatch-unknown"}" style="${css ? `background:${css}` : ""}"></span>`;
}

const MAX_PIPS = 24;

/** One pip per copy coloured by its print's state (a bar for many copies). */
function copiesHtml(job, done, copies) {
  const prints = job.prints ?? [];
  if (!prints.length || prints.length > MAX_PIPS) {
    const width = Math.round((100 * done) / Math.max(1, copies));
    return `<div class="copies-bar"><div style="width:${width}%"></div></div>`;
  }
  const pips = prints.map((p) => {
    const title = `copy ${p.copy}: ${p.state}${p.printer_id ? ` on ${p.printer_id}` : ""}`;
    return `<i class="pip pip-${esc(p.state)}" title="${esc(title)}"></i>`;
  });
  return `<div class="pips">${pips.join("")}</div>`;
}

/** "≈25m" each, from the shortest estimate over the printer models. */
function estimate(job) {
  const durations = Object.values(job.estimates ?? {}).map((e) => e.duration_s).filter(Boolean);
  if (!durations.length) return "";
  const fastest = Math.min(...durations);
  return ` <span class="muted small" title="print time per copy on the fastest model">≈${duration(fastest)}</span>`;
}

function rowHtml(job, now) {
  const preview = job.preview_url
    ? `<img src="${esc(keyed(job.preview_url))}" alt="" loading="lazy" decoding="async">`
    : "";
  const done = job.copies_done ?? 0;
  const copies = job.copies ?? 1;
  const printing = (job.prints ?? []).filter((p) => p.state === "printing");
  const where = printing.length
    ? `<div class="muted small">on ${printing.map((p) => esc(p.printer_id)).join(", ")}</div>`
    : "";
  const error = job.error ? `<div class="job-error">${esc(job.error)}</div>` : "";
  const actions = [
    CANCELLABLE.has(job.state) ? actionButton("cancel_job", { job: job.id, label: "Cancel" }) : "",
    canRetry(job) ? actionButton("retry_job", { job: job.id, label: "Retry" }) : "",
  ].join("");
  const due = job.due
    ? `<span class="${isLate(job, now) ? "late" : ""}" title="${esc(when(job.due, now))}">${esc(when(job.due, now))}<span class="muted small"> ${esc(relative(job.due, now))}</span></span>`
    : `<span class="muted">–</span>`;
  return `
    <td class="q-thumb"><div class="thumb thumb-sm">${preview}</div></td>
    <td class="q-job"><div class="job-name" title="${esc(job.name)}">${esc(job.name)}</div>
      <div class="muted small">${esc(job.id)} · ${esc(job.source ?? "")}${job.priority > 1 ? ` · <b class="prio">${job.priority >= 5 ? "rush" : "high"}</b>` : ""}</div>${error}</td>
    <td class="q-copies"><span class="copies">${done}/${copies}</span>${estimate(job)}
      ${copiesHtml(job, done, copies)}${where}</td>
    <td class="q-material">${swatch(job.color)}${esc(job.material)} <span class="muted">${esc(job.color)}</span></td>
    <td class="q-due">${due}</td>
    <td class="q-state"><span class="badge job-${esc(job.state)}">${esc(stateWords(job.state))}</span></td>
    <td class="q-actions">${actions}</td>`;
}

/**
 * The queue view over a <tbody>; `showFinished()` says whether done/cancelled jobs show,
 * `searchText()` is the header's search (lower case) that also finds jobs.
 */
export function createQueue(tbody, countEl, showFinished, searchText) {
  const rows = new Map(); // id -> {tr, html, detail: <tr> of the opened job or null}
  const opened = new Set(); // ids of the jobs whose prints show

  // A preview that fails to load leaves an empty thumb, not a broken image ("error" does not bubble).
  tbody.addEventListener("error", (event) => event.target.tagName === "IMG" && event.target.remove(), true);
  tbody.addEventListener("click", (event) => {
    const gcode = event.target.closest("button[data-gcode]");
    if (gcode) {
      downloadGcode(gcode.dataset.gcode, gcode.dataset.model);
      return;
    }
    if (event.target.closest("button, a, input")) return;
    const tr = event.target.closest("tr[data-job]");
    if (!tr || tr.classList.contains("job-detail")) return;
    const id = tr.dataset.job;
    if (opened.has(id)) opened.delete(id);
    else opened.add(id);
    const job = state.jobs.get(id);
    if (job) update(job, nowMs());
  });

  function order() {
    return [...state.jobs.values()].sort((a, b) =>
      (b.created ?? "").localeCompare(a.created ?? "") || b.id.localeCompare(a.id));
  }

  function update(job, now) {
    let row = rows.get(job.id);
    if (!row) {
      const tr = document.createElement("tr");
      tr.dataset.job = job.id;
      row = { tr, html: "" };
      rows.set(job.id, row);
    }
    const html = rowHtml(job, now);
    if (html !== row.html) {
      row.tr.innerHTML = html;
      row.html = html;
    }
    row.tr.dataset.state = job.state;
    const text = searchText();
    const matches = !text || `${job.id} ${job.name} ${job.material} ${job.color}`.toLowerCase().includes(text);
    row.tr.hidden = !matches || (FINISHED.has(job.state) && !showFinished());
    placeDetail(row, job, now);
    return row;
  }

  function placeDetail(row, job, now) {
    const open = opened.has(job.id) && !row.tr.hidden;
    row.tr.classList.toggle("open", open);
    if (!open) {
      row.detail?.remove();
      row.detail = null;
      row.detailHtml = "";
      return;
    }
    if (!row.detail) {
      row.detail = document.createElement("tr");
      row.detail.className = "job-detail";
      row.detail.dataset.job = job.id;
      row.detail.innerHTML = `<td colspan="7"></td>`;
    }
    const html = detailHtml(job, now);
    if (row.detailHtml !== html) {
      row.detail.firstChild.innerHTML = html;
      row.detailHtml = html;
    }
    if (row.tr.nextSibling !== row.detail) row.tr.after(row.detail);
  }

  function render(changes) {
    const now = nowMs();
    const fresh = [...changes.jobs].some((id) => !rows.has(id));
    if (changes.all || fresh) {
      const fragment = document.createDocumentFragment();
      for (const job of order()) {
        const row = update(job, now);
        fragment.append(row.tr);
        if (row.detail) fragment.append(row.detail);
      }
      for (const id of rows.keys()) if (!state.jobs.has(id)) rows.delete(id);
      tbody.replaceChildren(fragment);
    } else {
      // Every minute (farm refresh) all rows, for their "in 12m"; else only the changed jobs.
      const ids = changes.farm ? state.jobs.keys() : changes.jobs;
      for (const id of ids) {
        const job = state.jobs.get(id);
        if (job) update(job, now);
      }
    }
    if (!(changes.all || changes.jobs.size || changes.farm)) return;
    if (countEl) {
      const active = [...state.jobs.values()].filter((j) => !FINISHED.has(j.state)).length;
      countEl.textContent = `${active} active · ${state.jobs.size} total`;
    }
    const empty = tbody.parentElement.parentElement.querySelector(".empty");
    if (empty) empty.hidden = [...rows.values()].some((r) => !r.tr.hidden);
  }

  return { render };
}
