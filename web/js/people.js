// Who is in a space (members and their roles) and who is online now (presence).

import { allPages, session } from "./api.js";
import { h, replace } from "./dom.js";
import { realtime } from "./realtime.js";

const STAFF_ROLES = new Set(["moderator", "manager"]);

/** The members of a space: `byId` (account id -> {account, role}), `me` (my membership or null). */
export async function loadMembers(spaceId) {
  const { items } = await allPages(`/spaces/${spaceId}/members`, {}, 2000);
  const byId = new Map(items.map((m) => [m.account.id, m]));
  const me = byId.get(session.account.id) || null;
  return {
    byId,
    me,
    isMember: Boolean(me),
    // Space staff can moderate; brand managers are staff too but not listed here (docs/api.md).
    isStaff: session.role === "admin" || Boolean(me && STAFF_ROLES.has(me.role)),
    nameOf(id) {
      const member = byId.get(id);
      return member ? member.account.display_name : id === session.account.id ? session.account.display_name : `account ${id}`;
    },
  };
}

/**
 * "N online: names", kept current from `presence` deltas. Returns {node, stop}.
 * The full list is asked for once (after joining); deltas add and remove accounts.
 */
export function presenceBox(spaceId, members) {
  const online = new Set();
  const list = h("span", { className: "names" });
  const count = h("strong", {}, "0 online");
  const node = h("p", { className: "presence", "aria-label": "Who is online" }, count, list);

  function render() {
    count.textContent = `${online.size} online`;
    const names = [...online].map((id) => members.nameOf(id)).sort((a, b) => a.localeCompare(b));
    replace(list, names.length ? `: ${names.join(", ")}` : "");
  }

  const stop = realtime.on("presence", (delta) => {
    if (delta.space_id !== spaceId) return;
    for (const id of delta.joined || []) online.add(id);
    for (const id of delta.left || []) online.delete(id);
    render();
  });
  realtime.presence(spaceId).then((ack) => {
    if (!ack.ok) return;
    for (const id of ack.online) online.add(id);
    render();
  });
  render();
  return { node, stop };
}

/** "Mia is typing…" for a thread, cleared a few seconds after the last signal. Returns {node, stop}. */
export function typingBox(threadId) {
  const typists = new Map(); // account id -> {name, timer}
  const node = h("p", { className: "typing", "aria-live": "off" });

  function render() {
    const names = [...typists.values()].map((t) => t.name);
    node.textContent = names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
  }

  const stop = realtime.on("typing", (signal) => {
    if (signal.thread_id !== threadId || signal.account.id === session.account.id) return;
    const known = typists.get(signal.account.id);
    if (known) clearTimeout(known.timer);
    const timer = setTimeout(() => { typists.delete(signal.account.id); render(); }, 4000);
    typists.set(signal.account.id, { name: signal.account.display_name, timer });
    render();
  });

  /** A post by someone ends their typing at once. */
  function posted(accountId) {
    const known = typists.get(accountId);
    if (!known) return;
    clearTimeout(known.timer);
    typists.delete(accountId);
    render();
  }

  return { node, posted, stop: () => { stop(); for (const t of typists.values()) clearTimeout(t.timer); } };
}
