// The plan as a Gantt chart: one SVG row per printer, prints as bars coloured by material,
// shifts shaded, a "now" line, tardy prints marked, details on hover. Drawn as one SVG string
// per plan change (cheap for hundreds of rows) plus a separate sticky time axis.

import { clock, day, duration, esc, materialColor, natural, when } from "./format.js";
import { nowMs, state } from "./store.js";

const LABEL_W = 150;
const AXIS_H = 28;
const HOUR_MS = 3_600_000;
const PAST_MS = HOUR_MS; // the chart starts one hour before now
const TICK_STEPS_MIN = [15, 30, 60, 120, 180, 360, 720, 1440];
const MIN_TICK_PX = 64;
const SPANS_H = { auto: null, 6: 6, 12: 12, 24: 24, 72: 72, 168: 168 };

function rowHeight(rows) {
  return rows > 60 ? 18 : 26;
}

/** The visible window [start, end] in ms. "auto" fits the plan (4 h .. 7 days). */
function timeWindow(plan, spanKey, now) {
  const start = now - PAST_MS;
  let end;
  if (SPANS_H[spanKey]) {
    end = now + SPANS_H[spanKey] * HOUR_MS;
  } else {
    let last = now + 4 * HOUR_MS;
    for (const row of plan?.printers ?? []) {
      for (const pr of row.prints) last = Math.max(last, Date.parse(pr.end));
    }
    end = Math.min(last + HOUR_MS / 2, now + 168 * HOUR_MS);
  }
  return { start, end };
}

function rowOrder(plan) {
  const ids = [...state.printers.keys()];
  for (const row of plan?.printers ?? []) if (!state.printers.has(row.printer_id)) ids.push(row.printer_id);
  return ids.sort(natural);
}

function tickStepMs(width, win) {
  const pxPerMin = width / ((win.end - win.start) / 60_000);
  const step = TICK_STEPS_MIN.find((m) => m * pxPerMin >= MIN_TICK_PX) ?? 1440;
  return step * 60_000;
}

function ticks(win, stepMs) {
  // Align to the step in local time (a 6 h step lands on 00, 06, 12, 18 local).
  const offsetMs = new Date(win.start).getTimezoneOffset() * 60_000;
  let t = Math.ceil((win.start - offsetMs) / stepMs) * stepMs + offsetMs;
  const out = [];
  for (; t <= win.end; t += stepMs) out.push(t);
  return out;
}

function axisSvg(width, win, x, stepMs, now) {
  const parts = [`<svg class="gantt-axis" width="${width}" height="${AXIS_H}" role="presentation">`];
  const nowX = Number(x(now));
  for (const t of ticks(win, stepMs)) {
    const midnight = new Date(t).getHours() === 0 && new Date(t).getMinutes() === 0;
    const label = midnight || stepMs >= 86_400_000 ? day(t) : clock(t);
    parts.push(`<line class="tick" x1="${x(t)}" x2="${x(t)}" y1="${AXIS_H - 6}" y2="${AXIS_H}"/>`);
    // The "now" label wins over a tick label it would overlap.
    const dx = Number(x(t)) - nowX;
    if (dx > -36 && dx < 64) continue;
    parts.push(`<text class="${midnight ? "tick-day" : "tick-label"}" x="${x(t) + 3}" y="${AXIS_H - 10}">${esc(label)}</text>`);
  }
  parts.push(`<text class="axis-title" x="8" y="${AXIS_H - 10}">Printer</text>`);
  parts.push(`<line class="now-line" x1="${x(now)}" x2="${x(now)}" y1="0" y2="${AXIS_H}"/>`);
  parts.push(`<text class="now-label" x="${nowX + 4}" y="${AXIS_H - 10}">now ${esc(clock(now))}</text>`);
  parts.push("</svg>");
  return parts.join("");
}

function shiftRects(shifts, win, x, height) {
  const out = [];
  for (const s of shifts ?? []) {
    const a = Math.max(Date.parse(s.start), win.start);
    const b = Math.min(Date.parse(s.end), win.end);
    if (b <= a || !s.operators) continue;
    out.push(`<rect class="shift" x="${x(a)}" y="0" width="${x(b) - x(a)}" height="${height}">` +
      `<title>shift: ${s.operators} operator${s.operators === 1 ? "" : "s"}</title></rect>`);
  }
  return out.join("");
}

function doneWidth(x0, xs, xe, w, progress) {
  return Math.max(0, Math.min(w, xs + (xe - xs) * (progress ?? 0) - x0)).toFixed(1);
}

function barSvg(pr, k, y, h, win, x, progress) {
  const a = Math.max(Date.parse(pr.start), win.start);
  const b = Math.min(Date.parse(pr.end), win.end);
  if (b <= a) return "";
  const x0 = x(a);
  const w = Math.max(2, x(b) - x0);
  const cls = ["bar", pr.tardy ? "tardy" : "", pr.state === "printing" ? "bar-printing" : ""].join(" ");
  const chars = Math.floor((w - 8) / 6.4);
  const label = chars >= 3 ? esc(pr.name.length > chars ? `${pr.name.slice(0, chars - 1)}…` : pr.name) : "";
  let svg = `<g class="${cls.trim()}" data-k="${k}" data-job="${esc(pr.job_id)}" data-print="${esc(pr.print_id)}"><rect x="${x0}" y="${y}" width="${w}" height="${h}" rx="3" fill="${materialColor(pr.material)}"/>`;
  if (pr.state === "printing") {
    // The done part of a running print: a lighter band, kept current by updateProgress().
    const xs = Number(x(Date.parse(pr.start)));
    const xe = Number(x(Date.parse(pr.end)));
    svg += `<rect class="bar-done" data-x0="${x0}" data-xs="${xs}" data-xe="${xe}" data-w="${w}" ` +
      `x="${x0}" y="${y}" width="${doneWidth(x0, xs, xe, w, progress)}" height="${h}" rx="3"/>`;
  }
  if (label) svg += `<text x="${x0 + 5}" y="${y + h / 2 + 4}">${label}</text>`;
  svg += "</g>";
  const due = pr.due ? Date.parse(pr.due) : null;
  if (pr.tardy && due && due >= win.start && due <= win.end) {
    svg += `<line class="due-mark" x1="${x(due)}" x2="${x(due)}" y1="${y - 2}" y2="${y + h + 2}"/>`;
  }
  return svg;
}

function bodySvg(plan, ids, width, win, x, stepMs, now) {
  const rh = rowHeight(ids.length);
  const height = ids.length * rh;
  const byPrinter = new Map((plan?.printers ?? []).map((r) => [r.printer_id, r.prints]));
  const bars = [];
  const parts = [`<svg class="gantt-body" width="${width}" height="${height}">`];
  parts.push(`<rect class="gantt-plot" x="${LABEL_W}" y="0" width="${width - LABEL_W}" height="${height}"/>`);
  parts.push(shiftRects(plan?.shifts ?? state.farm?.shifts, win, x, height));
  // Zebra stripes as one path: a few hundred rows stay a few hundred elements, not a thousand.
  const stripes = ids.map((_, i) => (i % 2 ? `M0 ${i * rh}h${width}v${rh}h-${width}z` : "")).join("");
  parts.push(`<path class="row-alt" d="${stripes}"/>`);
  for (const t of ticks(win, stepMs)) parts.push(`<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="0" y2="${height}"/>`);
  ids.forEach((id, i) => {
    const y = i * rh;
    const p = state.printers.get(id);
    parts.push(`<g class="gantt-row" data-printer="${esc(id)}">`);
    parts.push(`<circle class="row-state state-${esc(p?.state ?? "unknown")}" cx="10" cy="${y + rh / 2}" r="4"/>`);
    const name = p ? `${p.name}` : id;
    parts.push(`<text class="row-label" x="20" y="${y + rh / 2 + 4}">${esc(name.length > 20 ? `${name.slice(0, 19)}…` : name)}</text>`);
    const current = p?.current;
    for (const pr of byPrinter.get(id) ?? []) {
      const progress = current?.print_id === pr.print_id ? current.progress : 0;
      parts.push(barSvg(pr, bars.length, y + 3, rh - 6, win, x, progress));
      bars.push({ ...pr, printer_id: id });
    }
    parts.push("</g>");
  });
  parts.push(`<line class="now-line" x1="${x(now)}" x2="${x(now)}" y1="0" y2="${height}"/>`);
  parts.push("</svg>");
  return { svg: parts.join(""), bars };
}

function tooltipHtml(pr, now) {
  const printer = state.printers.get(pr.printer_id);
  const lateness = pr.tardy && pr.due ? `late by ${duration((Date.parse(pr.end) - Date.parse(pr.due)) / 1000)}` : "on time";
  return `<div class="tt-title">${esc(pr.name)}</div>
    <div>${esc(pr.print_id)} · job ${esc(pr.job_id)}</div>
    <div>${esc(printer?.name ?? pr.printer_id)} · ${esc(pr.state)}</div>
    <div>${esc(when(pr.start, now))} → ${esc(when(pr.end, now))} (${duration((Date.parse(pr.end) - Date.parse(pr.start)) / 1000)})</div>
    <div><span class="swatch" style="background:${materialColor(pr.material)}"></span>${esc(pr.material)} ${esc(pr.color)}</div>
    <div class="${pr.tardy ? "tt-late" : ""}">due ${esc(pr.due ? when(pr.due, now) : "–")} · ${lateness}</div>`;
}

function updateProgress(row, current) {
  const band = row.querySelector(`.bar[data-print="${CSS.escape(current.print_id)}"] .bar-done`);
  if (!band) return;
  const d = band.dataset;
  const width = doneWidth(Number(d.x0), Number(d.xs), Number(d.xe), Number(d.w), current.progress);
  if (band.getAttribute("width") !== width) band.setAttribute("width", width);
}

/** The Gantt view over `root` (axis + scrolling body), with a span selector and a tooltip. */
export function createGantt(root, tooltip, summaryEl, onShowPrinter) {
  root.innerHTML = `<div class="gantt-axis-wrap"></div><div class="gantt-scroll"></div>`;
  const axisWrap = root.querySelector(".gantt-axis-wrap");
  const scroll = root.querySelector(".gantt-scroll");
  let bars = [];
  let spanKey = "auto";
  let lastWidth = 0;

  function draw() {
    const plan = state.plan;
    const width = Math.max(480, Math.floor(root.clientWidth));
    lastWidth = width;
    const now = nowMs();
    const win = timeWindow(plan, spanKey, now);
    const scale = (width - LABEL_W - 8) / (win.end - win.start);
    const x = (t) => (LABEL_W + (t - win.start) * scale).toFixed(1);
    const stepMs = tickStepMs(width - LABEL_W, win);
    const ids = rowOrder(plan);
    axisWrap.innerHTML = axisSvg(width, win, x, stepMs, now);
    const body = bodySvg(plan, ids, width, win, x, stepMs, now);
    scroll.innerHTML = body.svg;
    bars = body.bars;
    root.dataset.generated = plan?.generated ?? "";
    if (summaryEl && plan) {
      const tardy = bars.filter((b) => b.tardy).length;
      const obj = plan.objective ?? {};
      summaryEl.textContent = `${bars.length} prints · ${tardy} late · makespan ${duration((obj.makespan_min ?? 0) * 60)} · ${plan.solver ?? ""}`;
      summaryEl.classList.toggle("has-late", tardy > 0);
    }
  }

  scroll.addEventListener("mousemove", (event) => {
    const g = event.target.closest("[data-k]");
    if (!g) {
      tooltip.hidden = true;
      return;
    }
    tooltip.innerHTML = tooltipHtml(bars[Number(g.dataset.k)], nowMs());
    tooltip.hidden = false;
    const pad = 14;
    const left = Math.min(event.clientX + pad, window.innerWidth - tooltip.offsetWidth - pad);
    const top = event.clientY + pad + tooltip.offsetHeight > window.innerHeight
      ? event.clientY - tooltip.offsetHeight - pad
      : event.clientY + pad;
    tooltip.style.transform = `translate(${left}px, ${top}px)`;
  });
  scroll.addEventListener("mouseleave", () => (tooltip.hidden = true));
  scroll.addEventListener("click", (event) => {
    const row = event.target.closest(".gantt-row");
    if (row && !event.target.closest("[data-k]")) onShowPrinter(row.dataset.printer);
  });
  new ResizeObserver(() => {
    if (Math.abs(root.clientWidth - lastWidth) > 4) draw();
  }).observe(root);

  let lastPlanKey = "";

  function render(changes) {
    let planChanged = false;
    if (changes.plan) {
      // A replan often gives the same plan again: then there is nothing to redraw.
      const { generated, ...content } = state.plan ?? {};
      const key = JSON.stringify(content);
      planChanged = key !== lastPlanKey;
      lastPlanKey = key;
      root.dataset.generated = generated ?? "";
    }
    if (planChanged || changes.roster || changes.all || changes.farm) {
      draw();
      return;
    }
    // A printer's state dot in its row label, and the done part of its running print.
    for (const id of changes.printers) {
      const p = state.printers.get(id);
      const row = p && scroll.querySelector(`.gantt-row[data-printer="${CSS.escape(id)}"]`);
      if (!row) continue;
      row.querySelector(".row-state")?.setAttribute("class", `row-state state-${p.state}`);
      if (p.current) updateProgress(row, p.current);
    }
  }

  function setSpan(key) {
    spanKey = key;
    draw();
  }

  return { render, setSpan };
}
