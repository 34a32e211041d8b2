// Light, dark or the system's choice: kept in localStorage, applied as data-theme on <html>
// (app.css turns it into color-scheme, which every light-dark() colour follows).

const THEME_KEY = "slicefarm.theme";
const NEXT = { auto: "light", light: "dark", dark: "auto" };
const LABEL = { auto: "Auto", light: "Light", dark: "Dark" };

function apply(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

/** Apply the stored theme now; a click on `button` cycles auto -> light -> dark. */
export function installTheme(button) {
  let theme = localStorage.getItem(THEME_KEY) ?? "auto";
  if (!LABEL[theme]) theme = "auto";
  apply(theme);
  if (!button) return;
  button.textContent = LABEL[theme];
  button.addEventListener("click", () => {
    theme = NEXT[theme];
    localStorage.setItem(THEME_KEY, theme);
    apply(theme);
    button.textContent = LABEL[theme];
  });
}
