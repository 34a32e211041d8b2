// A queue row opened: every print of the job (copy, state, printer, progress, attempts, times),
// the print time and filament per printer model, and the G-code per model to download.

import { api } from "./api.js";
import { duration, esc, percent, stateWords, when } from "./format.js";
import { state } from "./store.js";
import { toast } from "./toast.js";

function printRow(p, now) {
  const printer = p.printer_id ? state.printers.get(p.printer_id)?.name ?? p.printer_id : "–";
  const progress = p.state === "printing" ? percent(p.progress) : "";
  const times = [p.started && `started ${when(p.started, now)}`, p.finished && `ended ${when(p.finished, now)}`]
    .filter(Boolean)
    .join(" · ");
  return `<tr data-print="${esc(p.id)}">
    <td>${esc(p.id)}</td>
    <td><i class="pip pip-${esc(p.state)}"></i> ${esc(stateWords(p.state))} ${esc(progress)}</td>
    <td>${esc(printer)}</td>
    <td class="muted">${p.attempts > 1 ? `${p.attempts} attempts` : ""}</td>
    <td class="muted">${esc(times)}</td></tr>`;
}

function estimatesHtml(job) {
  const entries = Object.entries(job.estimates ?? {});
  if (!entries.length) return `<span class="muted">no estimate yet</span>`;
  return entries
    .map(([model, e]) => `<span class="estimate">
      <b>${esc(model)}</b> ${esc(duration(e.duration_s))}${e.filament_g != null ? ` · ${esc(e.filament_g.toFixed(1))} g` : ""}
      <button type="button" class="btn btn-quiet btn-sm" data-gcode="${esc(job.id)}" data-model="${esc(model)}">G-code</button></span>`)
    .join("");
}

/** The inner markup of a job's detail row. */
export function detailHtml(job, now) {
  return `<div class="job-detail-box">
    <table class="prints"><tbody>${(job.prints ?? []).map((p) => printRow(p, now)).join("")}</tbody></table>
    <div class="estimates">${estimatesHtml(job)}</div></div>`;
}

/** Download a job's G-code for one printer model (the route needs the key header). */
export async function downloadGcode(jobId, model) {
  const job = state.jobs.get(jobId);
  try {
    const blob = await api.gcode(jobId, model);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${(job?.name ?? jobId).replace(/\.[^.]+$/, "")}-${model}.gcode`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (error) {
    toast(`${jobId}: ${error.message}`, "error");
  }
}
