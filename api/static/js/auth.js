// The API key: from the kiosk link (/#key=...), else localStorage. No key, no data.

const STORAGE_KEY = "slicefarm.apiKey";

/** Take a key from "#key=..." into storage and remove it from the address bar. */
export function adoptKeyFromHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const key = params.get("key");
  if (key === null) return;
  if (key.trim()) saveKey(key.trim());
  params.delete("key");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}

export function loadKey() {
  return localStorage.getItem(STORAGE_KEY) || null;
}

export function saveKey(key) {
  localStorage.setItem(STORAGE_KEY, key);
}

export function clearKey() {
  localStorage.removeItem(STORAGE_KEY);
}
