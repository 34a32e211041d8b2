// The dashboard's state and its one render loop: changes are collected and handed to the views
// once per animation frame, so a burst of hundreds of events costs one DOM update per card.

export const state = {
  farm: null,
  printers: new Map(), // id -> printer, in the service's order
  jobs: new Map(), // id -> job
  plan: null,
  clockOffsetMs: 0, // server clock minus browser clock
};

/** The service's "now" in epoch ms (the browser's clock corrected by the last /api/farm). */
export function nowMs() {
  return Date.now() + state.clockOffsetMs;
}

const views = [];
let dirty = emptyChanges();
let scheduled = false;

function emptyChanges() {
  return { printers: new Set(), jobs: new Set(), plan: false, farm: false, roster: false, all: false };
}

/** Register `render(changes)`; it runs in an animation frame after any change. */
export function addView(render) {
  views.push(render);
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(flush);
}

function flush() {
  scheduled = false;
  const changes = dirty;
  dirty = emptyChanges();
  for (const render of views) {
    try {
      render(changes);
    } catch (error) {
      console.error("dashboard view failed", error);
    }
  }
}

export function setFarm(farm) {
  state.farm = farm;
  if (farm?.now) state.clockOffsetMs = Date.parse(farm.now) - Date.now();
  dirty.farm = true;
  schedule();
}

export function setPrinters(printers) {
  state.printers = new Map(printers.map((p) => [p.id, p]));
  dirty.all = true;
  dirty.roster = true;
  schedule();
}

export function setPrinter(printer) {
  if (!state.printers.has(printer.id)) dirty.roster = true;
  state.printers.set(printer.id, printer);
  dirty.printers.add(printer.id);
  schedule();
}

export function setJobs(jobs) {
  state.jobs = new Map(jobs.map((j) => [j.id, j]));
  dirty.all = true;
  schedule();
}

export function setJob(job) {
  state.jobs.set(job.id, job);
  dirty.jobs.add(job.id);
  schedule();
}

export function setPlan(plan) {
  state.plan = plan;
  dirty.plan = true;
  schedule();
}

/** Ask every view to redraw from scratch (filters changed, clock moved on). */
export function refreshAll() {
  dirty.all = true;
  schedule();
}
