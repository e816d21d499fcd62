// The page: log in, the navigation, the connection status and a small hash router.
// Views live in their own modules; each renders into <main> and returns a clean-up function.

import { login, logout, session } from "./api.js";
import { errorBox, field, formValues, h, replace, showError } from "./dom.js";
import { realtime } from "./realtime.js";
import { spacesView, spaceView } from "./spaces.js";
import { threadView } from "./thread.js";
import { auditView, moderationView } from "./moderation.js";
import { analyticsView, communityView, reportView } from "./analytics.js";
import { peopleView } from "./analyst.js";
import { searchView } from "./search.js";
import { inboxView, startBell } from "./notifications.js";

const main = document.getElementById("main");
const routes = [
  [/^#\/spaces$/, () => spacesView(main)],
  [/^#\/spaces\/(\d+)$/, (id) => spaceView(main, Number(id))],
  [/^#\/threads\/(\d+)$/, (id) => threadView(main, Number(id))],
  [/^#\/threads\/(\d+)\/posts\/(\d+)$/, (id, postId) => threadView(main, Number(id), Number(postId))],
  [/^#\/search(?:\?(.*))?$/, (query) => searchView(main, query || "")],
  [/^#\/notifications$/, () => inboxView(main)],
  [/^#\/moderation$/, () => moderationView(main)],
  [/^#\/moderation\/audit$/, () => auditView(main)],
  [/^#\/analytics$/, () => analyticsView(main)],
  [/^#\/analytics\/reports\/(\d+)$/, (id) => reportView(main, Number(id))],
  [/^#\/analytics\/reports\/(\d+)\/communities\/(\d+)$/, (id, index) => communityView(main, Number(id), Number(index))],
  [/^#\/analytics\/people(?:\?(.*))?$/, (query) => peopleView(main, query || "")],
];
const SPACE_VIEWS = new Set([routes[1][0], routes[2][0], routes[3][0]]);
let cleanup = null;
let endMessage = null;

async function route() {
  const hash = location.hash;
  if (hash && !hash.startsWith("#/")) return; // in-page links such as "skip to content"
  if (cleanup) { cleanup(); cleanup = null; }
  if (!session.access) { loginView(); return; }
  for (const [pattern, view] of routes) {
    const match = pattern.exec(hash || "#/spaces");
    if (match) {
      markCurrent(match[0]);
      if (!SPACE_VIEWS.has(pattern)) realtime.unwatchAll(); // presence: only where you are
      cleanup = (await view(...match.slice(1))) || null;
      focusHeading();
      return;
    }
  }
  replace(main, h("h2", {}, "Not found"), h("p", {}, h("a", { href: "#/spaces" }, "Back to the spaces")));
}

/** Keyboard and screen-reader users land on the new view's heading, as after a page load. */
function focusHeading() {
  const heading = main.querySelector("h2");
  if (!heading || main.contains(document.activeElement)) return;
  heading.tabIndex = -1;
  heading.focus();
}

function markCurrent(hash) {
  for (const link of document.querySelectorAll("#nav a")) {
    const current = hash.startsWith(link.getAttribute("href"));
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function loginView() {
  setSignedIn(false);
  const error = errorBox();
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, maxLength: 254 });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, maxLength: 256 });
  const form = h("form", { className: "card narrow", "aria-labelledby": "login-title" },
    h("h2", { id: "login-title" }, "Log in"),
    endMessage && h("p", { className: "notice", role: "status" }, endMessage),
    field("Email", email), field("Password", password), error,
    h("button", { type: "submit" }, "Log in"),
    h("p", { className: "hint" }, "Demo accounts (after ./run.sh): admin@demo.example, analyst@demo.example; password demo-password-2026."));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    try {
      await login(values.email, values.password);
      endMessage = null;
      signedIn();
    } catch (problem) {
      showError(error, problem);
      password.focus();
    }
  });
  replace(main, form);
  email.focus();
}

function signedIn() {
  setSignedIn(true);
  realtime.start();
  startBell();
  if (!location.hash.startsWith("#/")) location.hash = "#/spaces";
  else route();
}

function setSignedIn(yes) {
  const account = session.account;
  document.getElementById("nav").hidden = !yes;
  document.getElementById("account").hidden = !yes;
  document.getElementById("connection").hidden = !yes;
  document.getElementById("nav-analytics").hidden = !(yes && ["analyst", "admin"].includes(session.role));
  document.getElementById("whoami").textContent = yes && account ? `${account.display_name} (@${account.handle})` : "";
}

function showStatus({ state, replayed, again, reason }) {
  const box = document.getElementById("connection");
  box.dataset.state = state;
  box.textContent = {
    online: again ? "Reconnected; catching up…" : "Live",
    offline: "Offline: reconnecting…",
    "caught-up": replayed ? `Live again; ${replayed} missed update(s) caught up` : "Live again",
    refused: reason,
  }[state];
}

session.onEnd((reason) => {
  endMessage = reason;
  realtime.stop();
  if (cleanup) { cleanup(); cleanup = null; }
  loginView();
});

realtime.on("status", showStatus);
window.addEventListener("hashchange", route);
document.getElementById("logout").addEventListener("click", () => logout());

if (session.load()) signedIn();
else loginView();
