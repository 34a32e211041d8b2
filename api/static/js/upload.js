// Upload: drop (or choose) one or more parts, set copies per file and material, colour,
// priority and due for the batch, and add them to the queue. Errors are shown in words per file.

import { api } from "./api.js";
import { esc } from "./format.js";
import { setJob } from "./store.js";

const ACCEPTED = [".stl", ".3mf", ".obj", ".gcode", ".gco", ".g"];
const DONE_LINGER_MS = 6000;

function kib(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

/** Why a file cannot be uploaded, in words; null when it looks fine. */
function problem(file) {
  const lower = file.name.toLowerCase();
  if (!ACCEPTED.some((ext) => lower.endsWith(ext))) {
    return `${file.name} is not a part: use STL, 3MF, OBJ or G-code`;
  }
  if (file.size === 0) return `${file.name} is empty`;
  return null;
}

/** "2026-11-22T20:30" (local, from <input type=datetime-local>) -> "2026-11-22T19:30:00Z". */
function dueIso(localValue) {
  if (!localValue) return null;
  const t = new Date(localValue);
  return Number.isNaN(t.getTime()) ? null : t.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function createUpload(form) {
  const drop = form.querySelector(".dropzone");
  const input = form.querySelector("input[type=file]");
  const list = form.querySelector(".staged");
  const submit = form.querySelector("button[type=submit]");
  const formError = form.querySelector(".form-error");
  let staged = []; // {id, file, copies, status: "ready"|"sending"|"done"|"error", message}
  let nextId = 1;

  function draw() {
    list.innerHTML = staged.map((s) => `
      <li class="staged-item staged-${s.status}" data-id="${s.id}">
        <div class="staged-name"><span title="${esc(s.file.name)}">${esc(s.file.name)}</span>
          <span class="muted small">${kib(s.file.size)}</span></div>
        <label class="staged-copies" title="copies">×<input type="number" min="1" max="999" value="${s.copies}"
          aria-label="copies of ${esc(s.file.name)}" ${s.status === "ready" || s.status === "error" ? "" : "disabled"}></label>
        <button type="button" class="icon-btn" data-remove="${s.id}" aria-label="remove ${esc(s.file.name)}">✕</button>
        ${s.message ? `<div class="staged-msg">${esc(s.message)}</div>` : ""}
      </li>`).join("");
    const ready = staged.filter((s) => s.status === "ready" || s.status === "error").length;
    submit.disabled = ready === 0;
    submit.textContent = ready > 1 ? `Add ${ready} parts to the queue` : "Add to the queue";
    drop.classList.toggle("has-files", staged.length > 0);
  }

  function add(files) {
    formError.textContent = "";
    const copies = Math.max(1, Number(form.elements.copies.value) || 1);
    for (const file of files) {
      const why = problem(file);
      staged.push({ id: nextId++, file, copies, status: why ? "rejected" : "ready", message: why });
    }
    draw();
  }

  async function send(item, shared) {
    item.status = "sending";
    item.message = "uploading…";
    draw();
    const body = new FormData();
    body.append("file", item.file, item.file.name);
    body.append("copies", String(item.copies));
    for (const [k, v] of Object.entries(shared)) if (v) body.append(k, v);
    let shownPercent = -1;
    const onProgress = (fraction) => {
      const percent = Math.floor(fraction * 100);
      if (percent === shownPercent) return;
      shownPercent = percent;
      item.message = percent < 100 ? `uploading ${percent}%` : "adding to the queue…";
      draw();
    };
    try {
      const job = await api.upload(body, onProgress);
      setJob(job);
      item.status = "done";
      item.message = `added as ${job.id}`;
      setTimeout(() => {
        staged = staged.filter((s) => s !== item);
        draw();
      }, DONE_LINGER_MS);
    } catch (error) {
      item.status = "error";
      item.message = error.message;
    }
    draw();
  }

  async function submitAll(event) {
    event.preventDefault();
    const due = form.elements.due.value;
    if (due && !dueIso(due)) {
      formError.textContent = "The due date is not a date.";
      return;
    }
    const shared = {
      material: form.elements.material.value.trim() || "PLA",
      color: form.elements.color.value.trim() || "black",
      priority: form.elements.priority.value,
      due: dueIso(due),
    };
    const todo = staged.filter((s) => s.status === "ready" || s.status === "error");
    for (const item of todo) await send(item, shared);
  }

  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("dragging");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("dragging");
    add([...(event.dataTransfer?.files ?? [])]);
  });
  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = "";
  });
  list.addEventListener("click", (event) => {
    const id = Number(event.target.closest("[data-remove]")?.dataset.remove);
    if (!id) return;
    staged = staged.filter((s) => s.id !== id);
    draw();
  });
  list.addEventListener("change", (event) => {
    const li = event.target.closest("[data-id]");
    const item = staged.find((s) => s.id === Number(li?.dataset.id));
    if (item) item.copies = Math.max(1, Number(event.target.value) || 1);
  });
  form.addEventListener("submit", submitAll);
  // Dropping a file anywhere on the page must not navigate away from the dashboard.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (!drop.contains(event.target)) event.preventDefault();
    });
  }
  draw();
}
