// Moderation (issue 5): members flag posts; space staff hide posts and lock threads with a
// reason, work through the flag queue and read the audit log. Every path the client uses is in
// MODERATION below, so following a change of the API is a one-line edit.

import { allPages, api } from "./api.js";
import { announce, errorBox, field, formValues, h, replace, showError, timeOf } from "./dom.js";

export const MODERATION = {
  flag: (postId) => `/posts/${postId}/flags`, // POST {reason, text?}
  hide: (postId) => `/posts/${postId}/hide`, // POST {reason}
  unhide: (postId) => `/posts/${postId}/unhide`, // POST {reason}
  lock: (threadId) => `/threads/${threadId}/lock`, // POST {reason}
  unlock: (threadId) => `/threads/${threadId}/unlock`, // POST {reason}
  queue: (spaceId) => `/spaces/${spaceId}/moderation/queue`, // GET, paged
  dismiss: (postId) => `/posts/${postId}/flags/dismiss`, // POST {reason}
  audit: (spaceId) => `/spaces/${spaceId}/moderation/audit`, // GET, paged
};
const FLAG_REASONS = [["spam", "Spam"], ["abuse", "Abuse"], ["off_topic", "Off-topic"], ["other", "Other"]];

/**
 * A modal form asking for a reason, then calling `action(values)`. Closes on success; shows
 * the API's error otherwise. <dialog> keeps keyboard focus inside and closes on Escape.
 */
export function reasonDialog({ title, submit, fields, action }) {
  const error = errorBox();
  const form = h("form", { method: "dialog" }, h("h3", {}, title), fields, error,
    h("div", { className: "actions" },
      h("button", { type: "submit" }, submit),
      h("button", { type: "button", className: "secondary", onclick: () => dialog.close() }, "Cancel")));
  const dialog = h("dialog", { "aria-label": title }, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await action(formValues(form));
      dialog.close();
    } catch (problem) {
      showError(error, problem);
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

function reasonField(label = "Reason") {
  return field(label, h("textarea", { name: "reason", rows: 2, required: true, maxLength: 500 }), "Shown in the audit log and to the author.");
}

/** "Flag" on someone else's post: choose why, optionally say more. */
export function flagButton(post) {
  const button = h("button", { type: "button", className: "link", "data-key": "flag" }, "Flag");
  button.addEventListener("click", () => reasonDialog({
    title: "Flag this post for the moderators",
    submit: "Send flag",
    fields: [
      field("Why?", h("select", { name: "reason", required: true }, FLAG_REASONS.map(([value, label]) => h("option", { value }, label)))),
      field("Details (optional)", h("textarea", { name: "text", rows: 2, maxLength: 500 })),
    ],
    action: async (values) => {
      const body = { reason: values.reason };
      if (values.text) body.text = values.text;
      await api("POST", MODERATION.flag(post.id), { body });
      button.textContent = "Flagged";
      button.disabled = true;
      announce("Thank you: the moderators will review this post.");
    },
  }));
  return button;
}

/** "Hide" for space staff on a post. */
export function staffControls(post) {
  return h("button", {
    type: "button", className: "link", "data-key": "hide",
    onclick: () => reasonDialog({
      title: "Hide this post", submit: "Hide post", fields: [reasonField()],
      action: async ({ reason }) => {
        await api("POST", MODERATION.hide(post.id), { body: { reason } });
        announce("The post is hidden.");
      },
    }),
  }, "Hide");
}

/** "Lock thread" / "Unlock thread" for space staff. */
export function threadStaffControls(thread) {
  const verb = thread.locked ? "Unlock" : "Lock";
  return h("div", { className: "membership" }, h("button", {
    type: "button", className: "secondary",
    onclick: () => reasonDialog({
      title: `${verb} this thread`, submit: `${verb} thread`, fields: [reasonField()],
      action: async ({ reason }) => {
        await api("POST", (thread.locked ? MODERATION.unlock : MODERATION.lock)(thread.id), { body: { reason } });
        announce(`The thread is ${thread.locked ? "unlocked" : "locked"}.`);
      },
    }),
  }, `${verb} thread`));
}

/** A space picker remembered for this tab; calls `show(spaceId)` with the choice. */
async function spacePicker(show) {
  const { items } = await allPages("/spaces");
  const chosen = Number(sessionStorage.getItem("community.mod-space")) || items[0]?.id;
  const select = h("select", { name: "space" }, items.map((s) => h("option", { value: s.id, selected: s.id === chosen }, s.name)));
  select.addEventListener("change", () => {
    sessionStorage.setItem("community.mod-space", select.value);
    show(Number(select.value));
  });
  if (chosen) show(chosen);
  return h("form", { className: "filters", onsubmit: (e) => e.preventDefault() }, field("Space", select));
}

/** #/moderation: the flag queue of a space, oldest first. */
export async function moderationView(main) {
  const results = h("div", { "aria-live": "polite" });
  replace(main, h("h2", {}, "Moderation queue"),
    h("p", {}, h("a", { href: "#/moderation/audit" }, "Audit log")), h("p", {}, "Loading…"), results);
  main.children[2].replaceWith(await spacePicker((spaceId) => showQueue(results, spaceId)));
}

async function showQueue(results, spaceId) {
  try {
    const { items } = await allPages(MODERATION.queue(spaceId), {}, 400);
    replace(results, items.length ? h("ol", { className: "posts", "aria-label": "Flagged posts" }, items.map((item) => queueItem(item, results, spaceId)))
      : h("p", {}, "Nothing to review."));
  } catch (problem) {
    const box = errorBox();
    replace(results, box);
    showError(box, problem.status === 403 || problem.status === 404 ? { detail: "You do not moderate this space." } : problem);
  }
}

function queueItem(item, results, spaceId) {
  const post = item.post || item;
  const flags = item.flags || [];
  const refresh = () => showQueue(results, spaceId);
  const act = (title, submit, path) => () => reasonDialog({
    title, submit, fields: [reasonField()],
    action: async ({ reason }) => { await api("POST", path, { body: { reason } }); announce(`${submit}: done.`); refresh(); },
  });
  return h("li", { className: "post" }, h("article", {},
    h("header", {}, h("strong", {}, post.author?.display_name || "A member"), " ", timeOf(post.created_at),
      post.hidden && h("span", { className: "tag" }, "hidden")),
    h("p", { className: "body" }, post.body ?? ""),
    h("p", { className: "hint" }, `${item.flag_count ?? flags.length} flag(s): `,
      flags.map((f) => `${f.reason}${f.text ? ` (“${f.text}”)` : ""}`).join(", ")),
    h("div", { className: "actions" },
      h("button", { type: "button", className: "danger", onclick: act("Hide this post", "Hide post", MODERATION.hide(post.id)) }, "Hide post"),
      h("button", { type: "button", className: "secondary", onclick: act("Dismiss the flags", "Dismiss flags", MODERATION.dismiss(post.id)) }, "Dismiss flags"))));
}

/** #/moderation/audit: who did what, when and why, newest first. */
export async function auditView(main) {
  const results = h("div", { className: "table-wrap" });
  replace(main, h("h2", {}, "Audit log"), h("p", {}, h("a", { href: "#/moderation" }, "Moderation queue")), h("p", {}, "Loading…"), results);
  main.children[2].replaceWith(await spacePicker((spaceId) => showAudit(results, spaceId)));
}

async function showAudit(results, spaceId) {
  try {
    const { items } = await allPages(MODERATION.audit(spaceId), {}, 400);
    replace(results, h("table", {},
      h("caption", { className: "visually-hidden" }, "Moderation actions"),
      h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Target", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, items.map((entry) => h("tr", {},
        h("td", {}, timeOf(entry.created_at || entry.at)),
        h("td", {}, entry.actor?.display_name || entry.actor_id || ""),
        h("td", {}, entry.action),
        h("td", {}, `${entry.target_kind || entry.target_type || ""} ${entry.target_id ?? ""}`.trim()),
        h("td", {}, entry.reason || ""))))));
  } catch (problem) {
    const box = errorBox();
    replace(results, box);
    showError(box, problem.status === 403 || problem.status === 404 ? { detail: "You do not moderate this space." } : problem);
  }
}
