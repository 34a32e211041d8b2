// Short messages in the corner: what an action did, or in words why it failed.

const DURATION_MS = { info: 3500, error: 8000 };

export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = document.createElement("div");
  item.className = `toast toast-${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  item.textContent = message;
  box.append(item);
  setTimeout(() => item.remove(), DURATION_MS[kind] ?? DURATION_MS.info);
}
