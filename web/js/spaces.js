// Browsing spaces by purpose, and one space: its threads, joining, starting a thread, presence.

import { allPages, api } from "./api.js";
import { announce, errorBox, field, formValues, h, reloadView, replace, showError, timeOf } from "./dom.js";
import { loadMembers, presenceBox } from "./people.js";
import { realtime } from "./realtime.js";
import { levelSelector } from "./notifications.js";

const KINDS = [["", "All purposes"], ["life", "Life goals"], ["societal", "Societal causes"]];
const purposeCache = new Map();

async function purposeOf(id) {
  if (!purposeCache.has(id)) purposeCache.set(id, api("GET", `/purposes/${id}`).catch(() => ({ id, title: `Purpose ${id}`, kind: "" })));
  return purposeCache.get(id);
}

/** #/spaces: every space you may see, grouped under its purpose; filter by kind of purpose. */
export async function spacesView(main) {
  const kind = sessionStorage.getItem("community.kind") || "";
  const select = h("select", { name: "kind" }, KINDS.map(([value, label]) => h("option", { value, selected: value === kind }, label)));
  const results = h("div", { "aria-live": "polite", "aria-busy": "true" }, h("p", {}, "Loading spaces…"));
  select.addEventListener("change", () => {
    sessionStorage.setItem("community.kind", select.value);
    showSpaces(results, select.value);
  });
  replace(main, h("h2", {}, "Spaces"), h("form", { className: "filters", onsubmit: (e) => e.preventDefault() }, field("Show", select)), results);
  await showSpaces(results, kind);
}

async function showSpaces(results, kind) {
  results.setAttribute("aria-busy", "true");
  try {
    const { items } = await allPages("/spaces", { kind });
    const groups = new Map();
    for (const space of items) {
      if (!groups.has(space.purpose_id)) groups.set(space.purpose_id, []);
      groups.get(space.purpose_id).push(space);
    }
    const sections = await Promise.all([...groups].map(async ([purposeId, spaces]) => {
      const purpose = await purposeOf(purposeId);
      return h("section", { className: "purpose", "aria-labelledby": `purpose-${purposeId}` },
        h("h3", { id: `purpose-${purposeId}` }, purpose.title, " ", h("span", { className: "tag" }, purpose.kind === "life" ? "life goal" : "societal cause")),
        purpose.statement && h("p", { className: "statement" }, purpose.statement),
        h("ul", { className: "cards" }, spaces.map(spaceCard)));
    }));
    replace(results, sections.length ? sections : h("p", {}, "No spaces to show."));
  } catch (problem) {
    const box = errorBox();
    showError(box, problem);
    replace(results, box);
  } finally {
    results.setAttribute("aria-busy", "false");
  }
}

function spaceCard(space) {
  return h("li", { className: "card" },
    h("a", { href: `#/spaces/${space.id}`, className: "title" }, space.name),
    space.visibility === "private" && h("span", { className: "tag" }, "private"),
    space.description && h("p", {}, space.description),
    space.tags?.length > 0 && h("p", { className: "tags" }, space.tags.map((t) => h("span", { className: "tag" }, t))));
}

/** #/spaces/{id}: the threads of a space, live; join or leave; start a thread. */
export async function spaceView(main, spaceId) {
  let space;
  let members;
  try {
    [space, members] = await Promise.all([api("GET", `/spaces/${spaceId}`), loadMembers(spaceId)]);
  } catch (problem) {
    const box = errorBox();
    replace(main, h("h2", {}, "Space"), box);
    showError(box, problem);
    return null;
  }
  await realtime.watch(spaceId);
  const presence = presenceBox(spaceId, members);
  const threadList = h("ol", { className: "threads", "aria-label": "Threads" });
  const composer = h("div");
  replace(main,
    h("p", { className: "crumbs" }, h("a", { href: "#/spaces" }, "Spaces"), " / ", space.name),
    h("h2", {}, space.name),
    space.description && h("p", {}, space.description),
    presence.node, membershipControls(space, members), levelSelector(spaceId),
    composer, h("h3", {}, "Threads"), threadList);
  if (members.isMember) composer.append(newThreadForm(spaceId));
  await showThreads(threadList, spaceId);

  const stopEvents = realtime.on("space_event", (event) => {
    if (event.space_id !== spaceId) return;
    if (event.kind === "thread_created") {
      threadList.prepend(threadItem(event.data.thread));
      announce(`New thread: ${event.data.thread.title}`);
    } else if (event.kind === "post_created") {
      const item = threadList.querySelector(`[data-thread="${event.data.post.thread_id}"]`);
      if (item) threadList.prepend(item); // latest activity first
    }
  });
  const stopResync = realtime.on("resync", (e) => { if (e.space_id === spaceId) reloadView(); });
  return () => { stopEvents(); stopResync(); presence.stop(); };
}

async function showThreads(list, spaceId) {
  const { items } = await allPages(`/spaces/${spaceId}/threads`, {}, 400);
  replace(list, items.length ? items.map(threadItem) : h("li", { className: "empty" }, "No threads yet."));
}

function threadItem(thread) {
  // `unread`: posts since you last read a thread you track or watch (null at other levels: docs/api.md)
  const unread = thread.unread > 0 && h("span", { className: "badge unread-count", "aria-label": `${thread.unread} new` },
    String(thread.unread));
  return h("li", { "data-thread": thread.id },
    h("a", { href: `#/threads/${thread.id}` }, thread.title),
    unread,
    thread.pinned && h("span", { className: "tag" }, "pinned"),
    thread.locked && h("span", { className: "tag" }, "locked"),
    h("small", {}, " by ", thread.author.display_name, ", ", timeOf(thread.created_at)));
}

function membershipControls(space, members) {
  const error = errorBox();
  const act = async (path) => {
    try {
      await api("POST", `/spaces/${space.id}/${path}`);
      announce(path === "join" ? `You joined ${space.name}` : `You left ${space.name}`);
      reloadView();
    } catch (problem) {
      showError(error, problem);
    }
  };
  const button = members.isMember
    ? h("button", { type: "button", className: "secondary", onclick: () => act("leave") }, "Leave this space")
    : h("button", { type: "button", onclick: () => act("join") }, "Join this space");
  const role = members.me ? `You are a ${members.me.role} here.` : "Join to post, start threads and react.";
  return h("div", { className: "membership" }, h("span", {}, role), " ", button, error);
}

function newThreadForm(spaceId) {
  const error = errorBox();
  const title = h("input", { name: "title", required: true, maxLength: 200 });
  const body = h("textarea", { name: "body", required: true, maxLength: 10000, rows: 3 });
  const form = h("form", { className: "card" },
    h("h3", {}, "Start a thread"), field("Title", title), field("First post", body), error,
    h("button", { type: "submit" }, "Start thread"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const thread = await api("POST", `/spaces/${spaceId}/threads`, { body: formValues(form) });
      location.hash = `#/threads/${thread.id}`;
    } catch (problem) {
      showError(error, problem);
    }
  });
  return form;
}
