// Analysts (issue 22): a brand's people from its people snapshot, filtered, sorted and paged by the
// API, with the pyramid as a funnel, segments, revenue and customer equity, and RFM as charts; and
// on a report's page, the trend against an earlier report of the same scope. Every path the client
// uses is in PEOPLE below, or in REPORTS (analytics.js), which the report page passes in.

import { allPages, api } from "./api.js";
import { errorBox, field, h, replace, showError, timeOf, uniqueId } from "./dom.js";
import { barChart, formatCount, formatMoney, funnelChart, personName, rfmScatter } from "./charts.js";

export const PEOPLE = {
  list: (brandId) => `/brands/${brandId}/people`, // GET filters below, sort, limit, cursor; 202 while no snapshot is ready
  segments: (brandId) => `/brands/${brandId}/people/segments`, // GET {people, segments, pyramid, kinds, customer_equity, snapshot, building}
};
const PAGE_SIZE = 25;
const SEGMENTS = ["heavy", "medium", "light", "lapsed", "nonuser"];
const LEVELS = ["none yet", "utility", "convenience", "ease", "recognition", "self-expression", "co-creation"];
const STYLES = ["none", "fling", "friendship", "marriage"];
const SORTS = [["id", "Oldest record first"], ["clv", "Customer value (CLV), highest first"],
  ["last_active", "Last active, latest first"], ["rank", "Opportunity rank, best first"], ["recency", "Last purchase, most recent first"]];
const FILTERS = ["purpose_id", "segment", "level", "style", "kind", "community", "q", "rank_min", "rank_max", "clv_min", "clv_max",
  "active_after", "active_before", "sort"];
const DATES = new Set(["active_after", "active_before"]);
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 16000;

/** Ask until the snapshot is ready: the API answers 202 `{snapshot: null, building: true}` until then.
 *  Waits 1 s, 2 s, 4 s ... (at most 16 s) between asks; `waiting(ms)` is told each wait. */
function untilReady(ask, waiting, alive) {
  let delay = RETRY_FIRST_MS;
  const attempt = async () => {
    const answer = await ask();
    if (answer.snapshot || !alive.yes) return answer;
    waiting(delay, answer.building);
    await new Promise((resolve) => { alive.timer = setTimeout(resolve, delay); });
    delay = Math.min(delay * 2, RETRY_MAX_MS);
    return alive.yes ? attempt() : answer;
  };
  return attempt();
}

/** #/analytics/people?brand=ID&segment=...: the brand's people, with charts of the whole snapshot. */
export async function peopleView(main, query = "") {
  const params = new URLSearchParams(query);
  const brands = (await allPages("/brands")).items;
  if (!brands.length) {
    replace(main, h("h2", {}, "People"), h("p", {}, "No brands yet."));
    return null;
  }
  const brandId = Number(params.get("brand")) || brands[0].id;
  const purposes = (await allPages(`/brands/${brandId}/purposes`)).items;
  const alive = { yes: true, timer: null };
  const brand = h("select", { name: "brand" }, brands.map((b) => h("option", { value: b.id, selected: b.id === brandId }, b.name)));
  brand.value = String(brandId);
  brand.addEventListener("change", () => { location.hash = `#/analytics/people?brand=${brand.value}`; });

  const freshness = h("p", { role: "status", className: "snapshot-status" }, "Loading the people snapshot…");
  const charts = h("div", { className: "charts" });
  const chartsTitle = h("h3", {}, "The whole brand");
  const error = errorBox();
  const form = filterForm(params, purposes);
  const table = h("div", { className: "table-wrap" });
  const rfm = h("div", { className: "charts" });
  const pageInfo = h("p", { className: "hint", role: "status" });
  const previous = h("button", { type: "button", className: "secondary", disabled: true }, "Previous");
  const next = h("button", { type: "button", className: "secondary", disabled: true }, "Next");
  replace(main,
    h("p", { className: "crumbs" }, h("a", { href: "#/analytics" }, "Analytics"), " / People"),
    h("h2", {}, "People"), field("Brand", brand), freshness, error,
    chartsTitle, charts,
    h("h3", { id: "people-list" }, "People"), form, pageInfo, table,
    h("div", { className: "actions" }, previous, next), rfm);

  // Keyset paging: the cursors of the pages before this one, so "Previous" can go back.
  let cursors = [];
  let cursor = null;
  let asked = 0; // only the latest ask is shown ("Clear" then "Apply" ask twice)
  const filters = () => Object.fromEntries(FILTERS.map((name) => [name, valueOf(form, name)]).filter(([, v]) => v !== ""));
  const say = (box) => (ms, building) => {
    box.textContent = building
      ? `The people snapshot is being built; asking again in ${Math.round(ms / 1000)} s.`
      : `No people snapshot is ready yet; asking again in ${Math.round(ms / 1000)} s.`;
  };

  // The charts and the status line follow the purpose filter: a purpose's people have their own snapshot.
  let summaryOf = null;
  const loadSummary = async () => {
    const purpose = valueOf(form, "purpose_id");
    summaryOf = purpose;
    try {
      const summary = await untilReady(() => api("GET", PEOPLE.segments(brandId), { query: { purpose_id: purpose } }), say(freshness), alive);
      if (!alive.yes || summaryOf !== purpose) return;
      chartsTitle.textContent = purpose ? `The purpose ${purposes.find((p) => String(p.id) === purpose)?.title ?? purpose}` : "The whole brand";
      showFreshness(freshness, summary);
      replace(charts, summaryCharts(summary));
    } catch (problem) {
      showError(error, problem);
    }
  };
  const loadPage = async () => {
    const mine = ++asked;
    previous.disabled = next.disabled = true;
    try {
      const page = await untilReady(() => api("GET", PEOPLE.list(brandId), { query: { ...filters(), limit: PAGE_SIZE, cursor } }),
        say(pageInfo), alive);
      if (!alive.yes || mine !== asked) return;
      showError(error, null);
      replace(table, peopleTable(page.items));
      const first = cursors.length * PAGE_SIZE;
      pageInfo.textContent = page.items.length
        ? `Page ${cursors.length + 1}: people ${first + 1}–${first + page.items.length}${page.next_cursor ? "" : " (the last page)"}, as of the snapshot of ${new Date(page.snapshot.as_of).toLocaleString()}.`
        : "Nobody matches these filters.";
      replace(rfm, page.items.length ? rfmScatter({ title: "Recency and frequency of the people on this page", people: page.items,
        caption: "Each buyer on this page: left is recent, up is frequent, a larger dot spent more. People without purchases are not drawn." }) : null);
      previous.disabled = cursors.length === 0;
      next.disabled = !page.next_cursor;
      next.onclick = () => { cursors.push(cursor); cursor = page.next_cursor; loadPage(); };
    } catch (problem) {
      if (mine !== asked) return;
      if (problem.type === "snapshot-expired") { // a rebuild replaced the snapshot this listing read
        cursors = [];
        cursor = null;
        pageInfo.textContent = "The snapshot was replaced while you paged; back to the first page.";
        loadPage();
        loadSummary();
        return;
      }
      showError(error, problem); // a 422 names the filter the API refused; the form stays as typed
      replace(table);
      replace(rfm);
      pageInfo.textContent = "";
      previous.disabled = cursors.length === 0;
    }
  };
  previous.addEventListener("click", () => { cursor = cursors.pop() ?? null; loadPage(); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [];
    cursor = null;
    const shown = new URLSearchParams({ brand: brandId, ...filters() });
    history.replaceState(null, "", `#/analytics/people?${shown}`); // a link to these filters; no re-render
    if (valueOf(form, "purpose_id") !== summaryOf) loadSummary();
    loadPage();
  });
  form.addEventListener("reset", () => setTimeout(() => form.requestSubmit())); // after the fields are cleared

  await Promise.all([loadSummary(), loadPage()]);
  return () => { alive.yes = false; clearTimeout(alive.timer); };
}

function filterForm(params, purposes) {
  const select = (name, options, any = "Any") => {
    const control = h("select", { name }, h("option", { value: "" }, any), options.map(([value, label]) => h("option", { value }, label)));
    control.value = params.get(name) || "";
    return control;
  };
  const input = (name, props) => h("input", { name, value: params.get(name) || "", ...props });
  const date = (name) => {
    const control = input(name, { type: "date" });
    if (params.get(name)) control.value = params.get(name).slice(0, 10);
    return control;
  };
  const whole = (name, min) => input(name, { type: "number", step: 1, min, inputmode: "numeric" });
  const sort = h("select", { name: "sort" }, SORTS.map(([value, label]) => h("option", { value }, label)));
  sort.value = params.get("sort") || "id";
  return h("form", { className: "card filter-grid", "aria-label": "Filter and sort people" },
    field("Purpose", select("purpose_id", purposes.map((p) => [String(p.id), p.title]), "The whole brand")),
    field("Segment", select("segment", SEGMENTS.map((s) => [s, s]))),
    field("Pyramid level", select("level", LEVELS.map((name, i) => [String(i), `${i} ${name}`]))),
    field("Style", select("style", STYLES.map((s) => [s, s]))),
    field("Kind", select("kind", [["member", "members"], ["nonuser", "not members"]])),
    field("Community", whole("community", 0)),
    field("Name or external id", input("q", { type: "search", maxLength: 120 })),
    field("Opportunity rank from", whole("rank_min", 1)),
    field("Opportunity rank to", whole("rank_max", 1)),
    field("CLV at least", input("clv_min", { type: "number", step: "any", min: 0 })),
    field("CLV at most", input("clv_max", { type: "number", step: "any", min: 0 })),
    field("Active since", date("active_after")),
    field("Active before", date("active_before")),
    field("Sort", sort),
    h("div", { className: "actions" }, h("button", { type: "submit" }, "Apply"), h("button", { type: "reset", className: "secondary" }, "Clear")));
}

/** A filter's value as the API wants it ("" for none): dates become the start of that day, UTC. */
function valueOf(form, name) {
  const value = form.elements[name].value.trim();
  if (DATES.has(name) && value) return `${value}T00:00:00+00:00`;
  if (name === "sort" && value === "id") return "";
  return value;
}

function showFreshness(box, { snapshot, building }) {
  const parts = [`${formatCount(snapshot.people)} people, as of `, timeOf(snapshot.as_of)];
  if (snapshot.stale) parts.push(building ? " (out of date: a newer snapshot is being built; reload to see it)" : " (out of date)");
  if (snapshot.report_id) parts.push(" · communities and ranks from ", h("a", { href: `#/analytics/reports/${snapshot.report_id}` }, `report ${snapshot.report_id}`));
  replace(box, parts);
}

function summaryCharts(summary) {
  const segments = summary.segments || [];
  const fitted = summary.snapshot?.clv_model === "fitted";
  const names = segments.map((s) => s.segment);
  const equityNote = fitted
    ? `Customer equity (the sum of every person's CLV): ${formatMoney(summary.customer_equity ?? 0)}.`
    : `Customer equity is not shown: the CLV model was not fitted (${summary.snapshot?.clv_model || "no model"}).`;
  return [
    funnelChart({ title: "Relationship pyramid", levels: summary.pyramid || [] }),
    barChart({ title: "People by segment", rows: names, className: "bars segments-chart",
      series: [{ name: "people", className: "bar-count", values: segments.map((s) => s.count), format: formatCount }],
      caption: `${formatCount(summary.people)} people in all.` }),
    barChart({ title: fitted ? "Revenue and customer equity by segment" : "Revenue by segment", rows: names, className: "bars equity-chart",
      series: [{ name: "revenue", className: "bar-revenue", values: segments.map((s) => s.revenue), format: formatMoney },
        ...(fitted ? [{ name: "customer equity", className: "bar-equity", values: segments.map((s) => s.customer_equity), format: formatMoney }] : [])],
      caption: `Revenue: what each segment spent. ${equityNote}` }),
  ];
}

function peopleTable(items) {
  if (!items.length) return null;
  const number = (v, f = formatMoney) => (typeof v === "number" ? f(v) : "–");
  const head = ["Person", "Kind", "Segment", "Pyramid level", "Style", "Recency (days)", "Frequency", "Monetary", "CLV", "Last active", "Opportunity rank"];
  return h("table", { className: "people" },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map((p) => h("tr", { "data-stakeholder": p.stakeholder_id },
      h("td", {}, personName(p), p.external_id && p.display_name && h("span", { className: "hint" }, ` ${p.external_id}`)),
      h("td", {}, p.kind === "nonuser" ? "not a member" : "member"),
      h("td", { className: "segment" }, p.segment),
      h("td", {}, `${p.pyramid_level} ${LEVELS[p.pyramid_level] ?? ""}`),
      h("td", {}, p.style),
      h("td", {}, number(p.recency_days, (v) => formatCount(v))),
      h("td", {}, formatCount(p.frequency ?? 0)),
      h("td", {}, number(p.monetary)),
      h("td", { className: "clv" }, number(p.clv)),
      h("td", {}, p.last_active_at ? h("time", { datetime: p.last_active_at }, new Date(p.last_active_at).toLocaleDateString()) : "–"),
      h("td", {}, p.opportunity_rank ?? "–")))));
}

const REPORT_SORTS = [["influence", "Influence (PageRank), highest first"], ["rank", "Opportunity rank, best first"],
  ["score", "Opportunity score, highest first"], ["betweenness", "Brokerage (betweenness), highest first"], ["clv", "Customer value (CLV), highest first"]];
const REPORT_FILTERS = ["segment", "kind", "pyramid_level", "style_preference", "community", "q", "rank_min", "rank_max", "clv_min", "clv_max", "sort"];

/** The report's page ("#/analytics/reports/{id}") or a community's (`community` given): everyone the
 *  report analysed, filtered, sorted and paged by GET /reports/{id}/people; a community opens its page. */
export function reportPeopleSection(reportId, paths, { community = null } = {}) {
  const title = community === null ? "Everyone in this report" : "Everyone in this community";
  const whole = (name, min) => h("input", { name, type: "number", step: 1, min, inputmode: "numeric" });
  const select = (name, options) => h("select", { name }, h("option", { value: "" }, "Any"), options.map(([value, label]) => h("option", { value }, label)));
  const form = h("form", { className: "card filter-grid", "aria-label": `Filter and sort: ${title.toLowerCase()}` },
    field("Segment", select("segment", SEGMENTS.map((s) => [s, s]))),
    field("Kind", select("kind", [["member", "members"], ["nonuser", "not members"]])),
    field("Pyramid level", select("pyramid_level", LEVELS.map((name, i) => [String(i), `${i} ${name}`]))),
    field("Style", select("style_preference", STYLES.slice(1).map((s) => [s, s]))),
    community === null ? field("Community", whole("community", 0)) : h("input", { type: "hidden", name: "community", value: community }),
    field("Name, label or external id", h("input", { name: "q", type: "search", maxLength: 120 })),
    field("Opportunity rank from", whole("rank_min", 1)),
    field("Opportunity rank to", whole("rank_max", 1)),
    field("CLV at least", h("input", { name: "clv_min", type: "number", step: "any", min: 0 })),
    field("CLV at most", h("input", { name: "clv_max", type: "number", step: "any", min: 0 })),
    field("Sort", h("select", { name: "sort" }, REPORT_SORTS.map(([value, label]) => h("option", { value }, label)))),
    h("div", { className: "actions" }, h("button", { type: "submit" }, "Apply"), h("button", { type: "reset", className: "secondary" }, "Clear")));
  const error = errorBox();
  const table = h("div", { className: "table-wrap" });
  const pageInfo = h("p", { className: "hint", role: "status" });
  const previous = h("button", { type: "button", className: "secondary", disabled: true }, "Previous");
  const next = h("button", { type: "button", className: "secondary", disabled: true }, "Next");
  const headingId = uniqueId("report-people");
  const box = h("section", { className: "report-people", "aria-labelledby": headingId },
    h("h3", { id: headingId }, title), form, error, pageInfo, table, h("div", { className: "actions" }, previous, next));

  let cursors = [];
  let cursor = null;
  let asked = 0;
  const filters = () => Object.fromEntries(REPORT_FILTERS.map((name) => [name, form.elements[name].value.trim()]).filter(([, v]) => v !== ""));
  const load = async () => {
    const mine = ++asked;
    previous.disabled = next.disabled = true;
    try {
      const page = await api("GET", paths.people(reportId), { query: { ...filters(), limit: PAGE_SIZE, cursor } });
      if (mine !== asked) return;
      showError(error, null);
      replace(table, reportPeopleTable(page.items, reportId, community === null));
      const first = cursors.length * PAGE_SIZE;
      pageInfo.textContent = page.items.length
        ? `Page ${cursors.length + 1}: people ${first + 1}–${first + page.items.length}${page.next_cursor ? "" : " (the last page)"}.`
        : "Nobody matches these filters.";
      previous.disabled = cursors.length === 0;
      next.disabled = !page.next_cursor;
      next.onclick = () => { cursors.push(cursor); cursor = page.next_cursor; load(); };
    } catch (problem) {
      if (mine !== asked) return;
      showError(error, problem); // a 422 names the filter the API refused
      replace(table);
      pageInfo.textContent = "";
      previous.disabled = cursors.length === 0;
    }
  };
  previous.addEventListener("click", () => { cursor = cursors.pop() ?? null; load(); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [];
    cursor = null;
    load();
  });
  form.addEventListener("reset", () => setTimeout(() => form.requestSubmit())); // after the fields are cleared
  load();
  return box;
}

export function communityHref(reportId, index) {
  return `#/analytics/reports/${reportId}/communities/${index}`;
}

/** A report's people (GET /reports/{id}/people items, or a community's lists) as a table. */
export function reportPeopleTable(items, reportId, linkCommunity = true, label = null) {
  if (!items.length) return null;
  const fixed = (v, digits) => (typeof v === "number" ? v.toFixed(digits) : "–");
  const head = ["Person", "Kind", "Segment", "Pyramid level", "Community", "Influence (PageRank)", "Betweenness", "Core", "Opportunity rank", "Score", "CLV"];
  return h("table", { className: "people report-people-table", "aria-label": label },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map((p) => h("tr", { "data-node": p.node, "data-stakeholder": p.stakeholder_id },
      h("td", { className: "person" }, personName(p), p.external_id && (p.name || p.label) !== p.external_id && h("span", { className: "hint" }, ` ${p.external_id}`)),
      h("td", {}, p.kind === "nonuser" ? "not a member" : "member"),
      h("td", { className: "segment" }, p.segment ?? "–"),
      h("td", {}, `${p.pyramid_level} ${LEVELS[p.pyramid_level] ?? ""}`),
      h("td", { className: "community" }, linkCommunity
        ? h("a", { href: communityHref(reportId, p.community), "aria-label": `Community ${p.community}` }, p.community) : p.community),
      h("td", {}, fixed(p.pagerank, 4)),
      h("td", {}, fixed(p.betweenness, 3)),
      h("td", {}, p.core_number ?? "–"),
      h("td", { className: "rank" }, p.opportunity_rank ?? "–"),
      h("td", {}, fixed(p.opportunity_score, 2)),
      h("td", { className: "clv" }, typeof p.clv === "number" ? formatMoney(p.clv) : "–")))));
}

/** A pyramid as a report or a community counts it ({"none" | level name | level number: count}) in
 *  funnelChart's shape; level names are the API's ("self_expression"), numbers a community's keys. */
export function pyramidLevels(pyramid) {
  return Object.entries(pyramid || {}).map(([key, count]) => {
    const level = /^\d+$/.test(key) ? Number(key) : key === "none" ? 0 : LEVELS.indexOf(key.replace(/_/g, "-"));
    return { level, name: level === 0 ? "none" : LEVELS[level], count };
  }).filter((l) => l.level >= 0).sort((a, b) => a.level - b.level);
}

/**
 * The trend on a report's page: choose another done report of the same scope (the latest earlier
 * one by default) and see what changed: people per segment in each, and who moved among the
 * opportunities (GET /reports/{id}/compare/{other}).
 */
export function trendSection(report, result, paths) {
  const box = h("section", { "aria-labelledby": "trend-title" });
  const other = h("select", { name: "compare" });
  const out = h("div");
  const error = errorBox();
  replace(box, h("h3", { id: "trend-title" }, "Trend"), h("p", {}, "Loading the other reports of this scope…"));
  (async () => {
    try {
      if (!report.brand_id) report = await api("GET", paths.one(report.id)); // a progress event, not the row
      const { items } = await allPages(paths.list, { brand_id: report.brand_id }, 200);
      const sameScope = items.filter((r) => r.id !== report.id && r.status === "done"
        && (r.purpose_id ?? null) === (report.purpose_id ?? null) && (r.space_id ?? null) === (report.space_id ?? null));
      if (!sameScope.length) {
        replace(box, h("h3", { id: "trend-title" }, "Trend"), h("p", {}, "No other finished report of this scope to compare with yet."));
        return;
      }
      const when = (r) => r.snapshot_at || r.created_at;
      sameScope.sort((a, b) => (when(b) < when(a) ? -1 : when(b) > when(a) ? 1 : b.id - a.id));
      replace(other, sameScope.map((r) => h("option", { value: r.id }, `Report ${r.id} (${new Date(when(r)).toLocaleString()})${when(r) > when(report) ? ", later" : ""}`)));
      other.value = String((sameScope.find((r) => when(r) <= when(report)) || sameScope[0]).id);
      const show = () => showTrend(out, error, paths, report.id, Number(other.value), result);
      other.addEventListener("change", show);
      replace(box, h("h3", { id: "trend-title" }, "Trend"), field("Compare with", other), error, out);
      show();
    } catch (problem) {
      replace(box, h("h3", { id: "trend-title" }, "Trend"), error);
      showError(error, problem);
    }
  })();
  return box;
}

async function showTrend(out, error, paths, reportId, otherId, result) {
  replace(out, h("p", { className: "hint" }, "Comparing…"));
  try {
    const [change, other] = await Promise.all([api("GET", paths.compare(reportId, otherId)), api("GET", paths.result(otherId))]);
    showError(error, null);
    const [older, newer] = change.older_id === reportId ? [result, other] : [other, result];
    const counts = (r) => r.segments || {};
    const names = [...new Set([...SEGMENTS, ...Object.keys(counts(older)), ...Object.keys(counts(newer))])]
      .filter((s) => s in counts(older) || s in counts(newer));
    const lists = [["moved_up", "Moved up among the opportunities"], ["moved_down", "Moved down"],
      ["new_entries", "New among the opportunities"], ["dropped_out", "Dropped out of the opportunities"],
      ["converted", "Nonusers who became members"]];
    replace(out,
      barChart({ title: `People by segment, report ${change.older_id} then report ${change.newer_id}`, rows: names, className: "bars trend-chart",
        series: [{ name: `report ${change.older_id} (older)`, className: "bar-older", values: names.map((s) => counts(older)[s] ?? 0), format: formatCount },
          { name: `report ${change.newer_id} (newer)`, className: "bar-count", values: names.map((s) => counts(newer)[s] ?? 0), format: formatCount }],
        caption: "Segments as graph reports count them: someone without an account is a nonuser there even after buying (the People view shows their purchase segment)." }),
      h("div", { className: "charts trend-pyramids" }, [[change.older_id, older, "older"], [change.newer_id, newer, "newer"]].map(([id, r, age]) => (r.pyramid
        ? funnelChart({ title: `Relationship pyramid, report ${id} (${age})`, levels: pyramidLevels(r.pyramid) })
        : h("p", { className: "hint" }, `Report ${id} stored no pyramid.`)))),
      h("table", { className: "trend-summary", "aria-label": "What changed" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "What changed"), h("th", { scope: "col" }, "People"))),
        h("tbody", {}, lists.map(([key, label]) => h("tr", { "data-change": key }, h("th", { scope: "row" }, label), h("td", {}, change[key].length))))),
      lists.filter(([key]) => change[key].length).map(([key, label]) => h("details", { className: "trend-list" },
        h("summary", {}, `${label} (${change[key].length})`),
        h("ul", {}, change[key].map((p) => h("li", {}, changeText(key, p)))))));
  } catch (problem) {
    replace(out);
    showError(error, problem);
  }
}

function changeText(key, p) {
  const who = p.label || (p.stakeholder_id ? `person #${p.stakeholder_id}` : p.node || p.new_node);
  if (key === "moved_up" || key === "moved_down") return `${who}: rank ${p.old_rank} → ${p.new_rank}`;
  if (key === "new_entries") return `${who}: now rank ${p.rank}${p.segment ? ` (${p.segment})` : ""}`;
  if (key === "dropped_out") return `${who}: was rank ${p.old_rank}`;
  return `${who}: ${p.old_node} → ${p.new_node}`;
}
