// The bell (unread count in the navigation, live) and the inbox (#/notifications), and the
// per-space notification level selector the space view shows (docs/notifications.md).

import { api } from "./api.js";
import { errorBox, field, h, replace, showError, timeOf } from "./dom.js";
import { realtime } from "./realtime.js";

const LEVELS = [["watching", "Watching: every new thread and post"], ["tracking", "Tracking: new threads, mentions and replies"],
  ["normal", "Normal: mentions and replies"], ["muted", "Muted: nothing"]];

function setCount(unread) {
  const badge = document.getElementById("bell-count");
  badge.textContent = unread > 0 ? String(unread) : "";
  badge.hidden = !(unread > 0);
  document.getElementById("bell").setAttribute("aria-label", `Notifications, ${unread} unread`);
}

/** After sign-in: fetch the count, then keep it live from the socket's events. */
export async function startBell() {
  realtime.onServer("notification", (payload) => setCount(payload.unread));
  realtime.onServer("notifications_read", (payload) => setCount(payload.unread));
  try {
    setCount((await api("GET", "/notifications/unread-count")).unread);
  } catch { /* the bell stays empty; the inbox still works */ }
}

function describe(n) {
  const who = n.actor ? `@${n.actor.handle}` : "Someone";
  return {
    mention: `${who} mentioned you`, reply: `${who} replied to your post`,
    reaction: n.count > 1 ? `${who} and others reacted to your post` : `${who} reacted to your post`,
    new_thread: `${who} started a thread`, watched_post: `${who} posted in a thread you watch`,
    direct_message: `${who} sent you a message`, moderation: `Moderation: ${(n.data || {}).action || "update"}`,
  }[n.kind] || n.kind.replace(/_/g, " ");
}

function item(n) {
  const text = describe(n);
  const link = n.thread_id ? h("a", { href: n.post_id ? `#/threads/${n.thread_id}/posts/${n.post_id}` : `#/threads/${n.thread_id}` }, text) : text;
  return h("li", { className: n.read_at ? "notification" : "notification unread", "data-id": String(n.id) },
    link, " ", h("time", { dateTime: n.created_at, className: "hint" }, timeOf(n.created_at)));
}

/** #/notifications: the inbox, newest first, with "mark all read". */
export async function inboxView(main) {
  const list = h("ol", { className: "inbox", "aria-label": "Notifications", "aria-live": "polite" });
  const error = errorBox();
  const markAll = h("button", { type: "button", className: "secondary" }, "Mark all read");
  replace(main, h("h2", {}, "Notifications"), markAll, error, list);
  try {
    const page = await api("GET", "/notifications", { query: { limit: 50 } });
    list.append(...page.items.map(item));
    if (!page.items.length) list.append(h("li", { className: "empty" }, "Nothing yet."));
  } catch (problem) {
    showError(error, problem);
  }
  markAll.addEventListener("click", async () => {
    try {
      const done = await api("POST", "/notifications/read", { body: {} });
      setCount(done.unread);
      for (const node of list.querySelectorAll(".unread")) node.classList.remove("unread");
    } catch (problem) {
      showError(error, problem);
    }
  });
  const stop = realtime.onServer("notification", (payload) => {
    list.querySelector(".empty")?.remove();
    list.prepend(item(payload.notification));
  });
  return stop;
}

/** The space view's "Notify me" selector: the member's level for the space. */
export function levelSelector(spaceId) {
  const select = h("select", { name: "level" }, LEVELS.map(([value, label]) => h("option", { value }, label)));
  const error = errorBox();
  const node = h("div", { className: "level" }, field("Notify me", select), error);
  api("GET", `/spaces/${spaceId}/notification-level`).then((level) => { select.value = level.level; }, () => {});
  select.addEventListener("change", async () => {
    try {
      await api("PUT", `/spaces/${spaceId}/notification-level`, { body: { level: select.value } });
      replace(error);
    } catch (problem) {
      showError(error, problem);
    }
  });
  return node;
}
