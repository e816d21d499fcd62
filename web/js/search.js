// Search (#/search?q=...): posts, threads, spaces and members you may read, best first.
// Snippets come as HTML from the server (escaped text, matches in <mark>); they are rebuilt
// here as text nodes and <mark> elements, never inserted as markup.

import { api } from "./api.js";
import { errorBox, field, h, replace, showError, timeOf } from "./dom.js";

const TYPES = [["posts", "Posts"], ["threads", "Threads"], ["spaces", "Spaces"], ["members", "Members"]];
const ENTITIES = { "&lt;": "<", "&gt;": ">", "&amp;": "&" };

/** The snippet's text with its <mark> runs as elements (only those two tags and three entities exist in it). */
function snippetNodes(snippet) {
  const text = (s) => s.replace(/&lt;|&gt;|&amp;/g, (e) => ENTITIES[e]);
  return snippet.split(/(<mark>.*?<\/mark>)/s).filter(Boolean).map((part) =>
    part.startsWith("<mark>") ? h("mark", {}, text(part.slice(6, -7))) : text(part));
}

function hitLink(hit) {
  if (hit.kind === "post") return `#/threads/${hit.thread_id}/posts/${hit.id}`;
  if (hit.kind === "thread") return `#/threads/${hit.id}`;
  if (hit.kind === "space") return `#/spaces/${hit.id}`;
  return null;
}

function hitNode(hit) {
  const link = hitLink(hit);
  const title = link ? h("a", { href: link }, hit.title) : h("strong", {}, hit.title);
  return h("li", { className: "search-hit" },
    h("p", {}, title, hit.hidden && h("span", { className: "tag" }, "hidden"),
      hit.author && hit.kind !== "member" && h("span", { className: "hint" }, " by ", hit.author.display_name),
      hit.kind === "member" && h("span", { className: "hint" }, ` @${hit.author.handle}`),
      " ", h("time", { dateTime: hit.created_at, className: "hint" }, timeOf(hit.created_at))),
    h("p", { className: "snippet" }, snippetNodes(hit.snippet)));
}

/** #/search: a query box, the kind of result, and the results with "more". */
export async function searchView(main, query = "") {
  const params = new URLSearchParams(query);
  const q = h("input", { type: "search", name: "q", required: true, maxLength: 256, value: params.get("q") || "",
    "aria-describedby": "search-hint" });
  const type = h("select", { name: "type" }, TYPES.map(([value, label]) => h("option", { value, selected: value === (params.get("type") || "posts") }, label)));
  const error = errorBox();
  const results = h("ol", { className: "search-results", "aria-live": "polite" });
  const more = h("button", { type: "button", className: "secondary", hidden: true }, "More results");
  let cursor = null;

  async function load(next) {
    try {
      const page = await api("GET", "/search", { query: { q: q.value, type: type.value, limit: 20, cursor: next } });
      if (!next) replace(results);
      results.append(...page.items.map(hitNode));
      if (!next && !page.items.length) results.append(h("li", { className: "empty" }, "Nothing found."));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      replace(error);
    } catch (problem) {
      showError(error, problem);
    }
  }
  more.addEventListener("click", () => load(cursor));
  const form = h("form", { className: "filters", role: "search", "aria-label": "Search" },
    field("Search", q), field("In", type), h("button", { type: "submit" }, "Search"),
    h("p", { className: "hint", id: "search-hint" }, 'Words, "a phrase", -exclude, or.'));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = `#/search?${new URLSearchParams({ q: q.value, type: type.value })}`;
    if (location.hash !== wanted) history.replaceState(null, "", wanted);
    load(null);
  });
  replace(main, h("h2", {}, "Search"), form, error, results, more);
  if (q.value) await load(null);
}
