// Formatting helpers: durations, times, colours. Pure functions, no DOM.

const MINUTE_S = 60;
const HOUR_S = 3600;
const DAY_S = 86400;

/** "45s", "12m", "1h 05m", "2d 3h" from seconds (null -> "–"). */
export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < MINUTE_S) return `${s}s`;
  const minutes = Math.round(s / MINUTE_S);
  if (minutes < 60) return `${minutes}m`;
  if (s < DAY_S) return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
  const hours = Math.round(s / HOUR_S);
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** "in 12m" / "5m ago" / "now" for a time relative to nowMs. */
export function relative(iso, nowMs) {
  if (!iso) return "";
  const ds = (Date.parse(iso) - nowMs) / 1000;
  if (Math.abs(ds) < 60) return "now";
  return ds > 0 ? `in ${duration(ds)}` : `${duration(-ds)} ago`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

/** Local "14:05". */
export function clock(ms) {
  return timeFmt.format(new Date(ms));
}

/** Local "Sun 22 Nov". */
export function day(ms) {
  return dayFmt.format(new Date(ms));
}

/** Local "14:05" for today, "Mon 23 Nov, 09:00" otherwise. */
export function when(iso, nowMs) {
  if (!iso) return "–";
  const t = Date.parse(iso);
  const sameDay = new Date(t).toDateString() === new Date(nowMs).toDateString();
  return sameDay ? timeFmt.format(new Date(t)) : dateTimeFmt.format(new Date(t));
}

/** Temperature "209.6°" (rounded to whole degrees above 100 for density). */
export function temp(c) {
  if (c == null) return "–";
  return `${Math.round(c)}°`;
}

/** Percentage "42%" from a 0..1 fraction. */
export function percent(fraction) {
  return `${Math.floor(Math.max(0, Math.min(1, fraction ?? 0)) * 100)}%`;
}

const STATE_WORDS = {
  needs_operator: "needs operator",
};

/** Human words for a printer/job state: "needs_operator" -> "needs operator". */
export function stateWords(state) {
  return STATE_WORDS[state] ?? String(state ?? "unknown").replaceAll("_", " ");
}

/** A CSS colour for a colour name ("red", "#ff0000"); null when the browser does not know it. */
export function cssColor(name) {
  if (!name) return null;
  const candidate = String(name).trim().toLowerCase().replaceAll(" ", "");
  return CSS.supports("color", candidate) ? candidate : null;
}

const MATERIAL_COLORS = { PLA: "#4f8ff7", PETG: "#22b3a0", ABS: "#ee8a35", TPU: "#b870e0", ASA: "#e5c04a" };

/** The Gantt colour of a material; unknown materials get a stable hue from their name. */
export function materialColor(material) {
  const key = String(material ?? "").toUpperCase();
  if (MATERIAL_COLORS[key]) return MATERIAL_COLORS[key];
  let hash = 0;
  for (const ch of key) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 55%)`;
}

/** Escape text for inclusion in HTML/SVG markup built as a string. */
export function esc(value) {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** Natural compare for ids like P2 < P10. */
export const natural = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" }).compare;
