// One thread: its posts in sequence order, live; post and reply over Socket.IO; react over REST;
// typing and presence; flagging (members) and hiding and locking (space staff).

import { allPages, api, session } from "./api.js";
import { errorBox, field, h, randomId, reloadView, replace, showError, timeOf } from "./dom.js";
import { flagButton, staffControls, threadStaffControls } from "./moderation.js";
import { loadMembers, presenceBox, typingBox } from "./people.js";
import { realtime } from "./realtime.js";

export const EMOJIS = ["👍", "❤️", "🎉", "🌊", "🏃"];
const TYPING_EVERY_MS = 2000;

/** #/threads/{id} */
export async function threadView(main, threadId, postId = null) {
  let thread;
  let space;
  let members;
  try {
    thread = await api("GET", `/threads/${threadId}`);
    [space, members] = await Promise.all([api("GET", `/spaces/${thread.space_id}`), loadMembers(thread.space_id)]);
  } catch (problem) {
    const box = errorBox();
    replace(main, h("h2", {}, "Thread"), box);
    showError(box, problem);
    return null;
  }
  const spaceId = thread.space_id;
  await realtime.watch(spaceId);
  const view = new ThreadPage(thread, space, members);
  replace(main, ...view.render());
  await view.loadPosts();
  if (postId !== null) view.showPost(postId);
  const stops = [
    realtime.on("space_event", (event) => { if (event.space_id === spaceId) view.apply(event); }),
    realtime.on("resync", (e) => { if (e.space_id === spaceId) reloadView(); }),
    realtime.on("access_lost", (e) => { if (e.space_id === spaceId) reloadView(); }),
  ];
  return () => { stops.forEach((stop) => stop()); view.stop(); };
}

class ThreadPage {
  constructor(thread, space, members) {
    this.thread = thread;
    this.space = space;
    this.members = members;
    this.posts = new Map(); // post id -> {post, node}
    this.replyTo = null;
    this.presence = presenceBox(thread.space_id, members);
    this.typing = typingBox(thread.id);
    // New posts are announced by screen readers as they are added (not the first load).
    this.list = h("ol", { className: "posts", "aria-label": "Posts", "aria-live": "polite", "aria-relevant": "additions" });
    this.composer = this.buildComposer();
  }

  render() {
    const t = this.thread;
    return [
      h("p", { className: "crumbs" }, h("a", { href: "#/spaces" }, "Spaces"), " / ", h("a", { href: `#/spaces/${t.space_id}` }, this.space.name), " / ", t.title),
      h("h2", {}, t.title, t.locked && h("span", { className: "tag" }, "locked")),
      this.presence.node,
      this.members.isStaff ? threadStaffControls(t) : null,
      this.list, this.typing.node, this.composer,
    ];
  }

  /** Bring one post into view and focus it (a search result links to the thread at the post). */
  showPost(postId) {
    const node = document.getElementById(`post-${postId}`);
    if (!node) return;
    node.classList.add("target");
    node.tabIndex = -1;
    node.scrollIntoView({ block: "center" });
    node.focus();
  }

  async loadPosts() {
    const { items } = await allPages(`/threads/${this.thread.id}/posts`, {}, 2000);
    for (const post of items) this.upsert(post);
    if (!items.length) this.list.append(h("li", { className: "empty" }, "No posts yet."));
    else this.markRead(items[items.length - 1].id);
  }

  /** Shown up to this post: the thread's unread count in the space's list drops (never moves back). */
  markRead(postId) {
    if (this.space.visibility === "direct") return; // a conversation keeps its own position
    api("POST", `/threads/${this.thread.id}/read`, { body: { post_id: postId } }).catch(() => {});
  }

  /** Add a post, or update it in place: the same post never shows twice (REST, ack and event may all carry it). */
  upsert(post) {
    if (post.thread_id !== this.thread.id) return;
    this.list.querySelector(".empty")?.remove();
    const known = this.posts.get(post.id);
    const merged = known ? { ...known.post, ...post, reactions: post.reactions ?? known.post.reactions } : { reactions: [], ...post };
    const node = this.postNode(merged);
    if (known) {
      const focused = known.node.contains(document.activeElement) ? document.activeElement.dataset.key : null;
      known.node.replaceWith(node);
      if (focused) node.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus(); // keep the keyboard's place
    } else {
      this.list.insertBefore(node, this.successorOf(post.seq));
    }
    this.posts.set(post.id, { post: merged, node });
  }

  /** The first post node after `seq` in the list, or null to append (the usual case: a new post). */
  successorOf(seq) {
    const last = this.list.lastElementChild;
    if (!last || Number(last.dataset.seq) < seq) return null;
    return [...this.list.children].find((node) => Number(node.dataset.seq) > seq) || null;
  }

  remove(postId) {
    const known = this.posts.get(postId);
    if (!known) return;
    known.node.remove();
    this.posts.delete(postId);
  }

  apply(event) {
    const data = event.data;
    switch (event.kind) {
      case "post_created":
      case "post_edited":
        this.upsert(data.post);
        this.typing.posted(data.post.author.id);
        break;
      case "post_deleted":
        if (this.posts.has(data.post_id)) this.upsert({ ...this.posts.get(data.post_id).post, body: null, deleted: true });
        break;
      case "post_hidden": // hidden posts vanish for members at once; staff keep them, marked
        if (!this.members.isStaff) this.remove(data.post_id);
        else if (this.posts.has(data.post_id)) this.upsert({ ...this.posts.get(data.post_id).post, hidden: true });
        break;
      case "post_unhidden":
        if ((data.thread_id ?? this.thread.id) === this.thread.id) reloadView();
        break;
      case "reaction_added":
      case "reaction_removed":
        this.reacted(data, event.kind === "reaction_added");
        break;
      case "thread_locked":
      case "thread_unlocked":
      case "thread_updated":
        if ((data.thread?.id ?? data.thread_id) === this.thread.id) reloadView();
        break;
      default:
        break;
    }
  }

  reacted({ post_id: postId, emoji, account_id: accountId, count }, added) {
    const known = this.posts.get(postId);
    if (!known) return;
    const reactions = known.post.reactions.filter((r) => r.emoji !== emoji);
    const before = known.post.reactions.find((r) => r.emoji === emoji);
    const mine = accountId === session.account.id ? added : Boolean(before?.mine);
    if (count > 0) reactions.push({ emoji, count, mine });
    this.upsert({ ...known.post, reactions });
  }

  postNode(post) {
    const parent = post.parent_id ? this.posts.get(post.parent_id)?.post : null;
    const headingId = `post-${post.id}-by`;
    return h("li", { className: "post", id: `post-${post.id}`, "data-seq": post.seq },
      h("article", { "aria-labelledby": headingId },
        h("header", {},
          h("strong", { id: headingId }, post.author.display_name), " ",
          h("span", { className: "handle" }, `@${post.author.handle}`), " ",
          timeOf(post.created_at), post.edited_at && h("small", {}, " (edited)"),
          post.hidden && h("span", { className: "tag" }, "hidden by moderators")),
        parent && h("p", { className: "reply-to" }, `Replying to ${parent.author.display_name}: `,
          h("q", {}, (parent.body || "a deleted post").slice(0, 80))),
        post.deleted
          ? h("p", { className: "body deleted" }, "This post was deleted.")
          : h("p", { className: "body" }, post.body),
        !post.deleted && this.postActions(post)));
  }

  postActions(post) {
    const reactions = new Map((post.reactions || []).map((r) => [r.emoji, r]));
    const emojiButtons = EMOJIS.concat([...reactions.keys()].filter((e) => !EMOJIS.includes(e))).map((emoji) => {
      const r = reactions.get(emoji);
      const label = `${emoji} ${r ? r.count : ""}`.trim();
      return h("button", {
        type: "button", className: "reaction", "data-key": `react-${emoji}`, "aria-pressed": r?.mine ? "true" : "false",
        "aria-label": `React ${emoji}${r ? `, ${r.count} so far` : ""}`,
        disabled: !this.members.isMember, onclick: () => this.toggleReaction(post, emoji, Boolean(r?.mine)),
      }, label);
    });
    return h("div", { className: "actions" },
      h("div", { className: "reactions", role: "group", "aria-label": "Reactions" }, emojiButtons),
      this.members.isMember && !this.thread.locked && h("button", { type: "button", className: "link", "data-key": "reply", onclick: () => this.startReply(post) }, "Reply"),
      post.author.id !== session.account.id && flagButton(post),
      this.members.isStaff && staffControls(post));
  }

  async toggleReaction(post, emoji, mine) {
    try {
      if (mine) await api("DELETE", `/posts/${post.id}/reactions`, { query: { emoji } });
      else await api("POST", `/posts/${post.id}/reactions`, { body: { emoji } });
    } catch (problem) {
      showError(this.composerError, problem);
    }
  }

  startReply(post) {
    this.replyTo = post;
    replace(this.replyNote, `Replying to ${post.author.display_name} `,
      h("button", { type: "button", className: "link", onclick: () => this.cancelReply() }, "Cancel reply"));
    this.replyNote.hidden = false;
    this.textarea.focus();
  }

  cancelReply() {
    this.replyTo = null;
    this.replyNote.hidden = true;
    this.textarea.focus();
  }

  buildComposer() {
    this.composerError = errorBox();
    if (!this.members.isMember) {
      const join = h("a", { href: `#/spaces/${this.thread.space_id}` }, `Join ${this.space.name}`);
      return h("div", {}, h("p", { className: "notice" }, join, " to post and react."), this.composerError);
    }
    if (this.thread.locked) return h("div", {}, h("p", { className: "notice" }, "This thread is locked: no new posts."), this.composerError);
    this.textarea = h("textarea", { name: "body", rows: 3, maxLength: 10000, required: true });
    this.replyNote = h("p", { className: "reply-note", hidden: true });
    let lastTyping = 0;
    this.textarea.addEventListener("input", () => {
      if (Date.now() - lastTyping < TYPING_EVERY_MS) return;
      lastTyping = Date.now();
      realtime.typing(this.thread.id);
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
    const form = h("form", { className: "composer card", "aria-label": "Write a post" },
      this.replyNote, field("Your message", this.textarea, "Ctrl+Enter sends. Shown as plain text."), this.composerError,
      h("button", { type: "submit" }, "Send"));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.send(form); });
    return form;
  }

  async send(form) {
    const body = this.textarea.value.trim();
    if (!body) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const payload = { thread_id: this.thread.id, body, client_msg_id: randomId() };
    if (this.replyTo) payload.parent_id = this.replyTo.id;
    const ack = await realtime.post(payload);
    button.disabled = false;
    if (!ack.ok) {
      showError(this.composerError, ack.error);
      return;
    }
    showError(this.composerError, null);
    this.upsert(ack.post);
    this.textarea.value = "";
    if (this.replyTo) this.cancelReply();
    this.textarea.focus();
  }

  stop() {
    this.presence.stop();
    this.typing.stop();
  }
}
