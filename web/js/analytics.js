// Analysts (issue 6): request a graph report for a brand, purpose or space, watch its progress
// live, read the opportunities with their reasons, see the graph picture, download the exports;
// page through everyone the report analysed and open a community's page (analyst.js builds the
// people tables). Every path the client uses is in REPORTS below.

import { allPages, api } from "./api.js";
import { announce, errorBox, field, h, replace, showError, timeOf } from "./dom.js";
import { realtime } from "./realtime.js";
import { barChart, formatCount, formatMoney, funnelChart, personName } from "./charts.js";
import { communityHref, pyramidLevels, reportPeopleSection, reportPeopleTable, trendSection } from "./analyst.js";

export const REPORTS = {
  create: "/reports", // POST {brand_id | purpose_id | space_id}
  list: "/reports", // GET ?brand_id=, paged
  one: (id) => `/reports/${id}`, // GET {id, status, stage, percent, ...}
  result: (id) => `/reports/${id}/result`,
  cancel: (id) => `/reports/${id}/cancel`,
  export: (id, format) => `/reports/${id}/export.${format}`,
  compare: (id, otherId) => `/reports/${id}/compare/${otherId}`, // the trend (analyst.js)
  people: (id) => `/reports/${id}/people`, // GET filters, sort, limit, cursor (analyst.js)
  community: (id, index) => `/reports/${id}/communities/${index}`, // GET {index, size, kinds, segments, pyramid, customer_equity, key_members, brokers, opportunities}
  progressEvent: "report_progress", // Socket.IO, to the analyst who asked: {report_id | id, status, stage, percent}
};
const RUNNING = new Set(["pending", "queued", "running"]);
const POLL_MS = 3000; // a fallback only: progress normally arrives as events
const DOWNLOADS = [["csv", "Opportunities (CSV)"], ["graphml", "Graph (GraphML)"], ["gexf", "Graph (GEXF, for Gephi)"], ["json", "Everything (JSON)"]];

/** #/analytics: choose a scope and request a report; the brand's earlier reports. */
export async function analyticsView(main) {
  const error = errorBox();
  const brands = (await allPages("/brands")).items;
  const brand = h("select", { name: "brand" }, brands.map((b) => h("option", { value: b.id }, b.name)));
  const scope = h("select", { name: "scope" });
  const list = h("div", { className: "table-wrap" });
  const peopleLink = h("a", { href: "#/analytics/people" }, "People, segments and the pyramid of this brand");
  const form = h("form", { className: "card", "aria-labelledby": "new-report" },
    h("h3", { id: "new-report" }, "New report"), field("Brand", brand), field("Scope", scope), error,
    h("button", { type: "submit" }, "Request report"));
  const load = async () => {
    peopleLink.href = `#/analytics/people?brand=${brand.value}`;
    await fillScopes(scope, Number(brand.value));
    await showReports(list, Number(brand.value));
  };
  brand.addEventListener("change", load);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [kind, id] = scope.value.split(":");
    try {
      const report = await api("POST", REPORTS.create, { body: { [`${kind}_id`]: Number(id) } });
      location.hash = `#/analytics/reports/${report.id}`;
    } catch (problem) {
      showError(error, problem);
    }
  });
  replace(main, h("h2", {}, "Analytics"), brands.length ? [h("p", {}, peopleLink), form] : h("p", {}, "No brands yet."), h("h3", {}, "Reports"), list);
  if (brands.length) await load();
}

async function fillScopes(select, brandId) {
  const [purposes, spaces] = await Promise.all([allPages(`/brands/${brandId}/purposes`), allPages("/spaces", { brand_id: brandId })]);
  replace(select,
    h("option", { value: `brand:${brandId}` }, "The whole brand"),
    h("optgroup", { label: "Purposes" }, purposes.items.map((p) => h("option", { value: `purpose:${p.id}` }, p.title))),
    h("optgroup", { label: "Spaces" }, spaces.items.map((s) => h("option", { value: `space:${s.id}` }, s.name))));
}

async function showReports(box, brandId) {
  try {
    const { items } = await allPages(REPORTS.list, { brand_id: brandId }, 200);
    replace(box, items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Report", "Scope", "Status", "Requested"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, items.map((r) => h("tr", {},
        h("td", {}, h("a", { href: `#/analytics/reports/${r.id}` }, `Report ${r.id}`)),
        h("td", {}, scopeLabel(r)), h("td", {}, r.status), h("td", {}, timeOf(r.created_at))))))
      : h("p", {}, "No reports yet."));
  } catch (problem) {
    const err = errorBox();
    replace(box, err);
    showError(err, problem);
  }
}

function scopeLabel(report) {
  if (report.scope_kind) return `${report.scope_kind} ${report.scope_id ?? ""}`.trim();
  for (const kind of ["space", "purpose", "brand"]) if (report[`${kind}_id`]) return `${kind} ${report[`${kind}_id`]}`;
  return "";
}

/** #/analytics/reports/{id}: progress (live), then the results, the picture and the downloads. */
export async function reportView(main, reportId) {
  const status = h("p", { role: "status" });
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Report progress" });
  const cancel = h("button", { type: "button", className: "secondary" }, "Cancel report");
  const error = errorBox();
  const results = h("div");
  replace(main, h("p", { className: "crumbs" }, h("a", { href: "#/analytics" }, "Analytics"), ` / Report ${reportId}`),
    h("h2", {}, `Report ${reportId}`), status, bar, cancel, error, results);
  let done = false;
  let timer = null;

  const show = (report) => {
    if (done) return;
    const percent = Math.round(report.percent ?? 0);
    bar.value = percent;
    status.textContent = `${report.status}${report.stage ? `: ${report.stage}` : ""} (${percent}%)`;
    cancel.hidden = !RUNNING.has(report.status);
    if (!RUNNING.has(report.status)) {
      done = true;
      clearInterval(timer);
      if (report.status === "done" || report.status === "finished" || report.status === "succeeded") showResult(results, { ...report, id: reportId });
      else if (report.error) showError(error, { detail: report.error });
      announce(`Report ${reportId}: ${report.status}`);
    }
  };
  const poll = () => api("GET", REPORTS.one(reportId)).then(show).catch((problem) => showError(error, problem));
  cancel.addEventListener("click", () => api("POST", REPORTS.cancel(reportId)).then(poll).catch((problem) => showError(error, problem)));
  const stop = realtime.onServer(REPORTS.progressEvent, (event) => {
    if ((event.report_id ?? event.id) === reportId) {
      show({ ...event, status: event.status || "running" });
      if (!RUNNING.has(event.status || "running")) { done = false; poll(); } // the row has the final word
    }
  });
  await poll();
  if (!done) timer = setInterval(poll, POLL_MS);
  return () => { stop(); clearInterval(timer); };
}

async function showResult(box, report) {
  const reportId = report.id;
  let result;
  try {
    result = await api("GET", REPORTS.result(reportId));
  } catch (problem) {
    const err = errorBox();
    replace(box, err);
    showError(err, problem);
    return;
  }
  const picture = h("figure", {}, h("p", {}, "Loading the graph picture…"));
  replace(box,
    h("h3", {}, "Downloads"),
    h("div", { className: "actions" }, DOWNLOADS.map(([format, label]) => downloadButton(reportId, format, label))),
    segmentTable(result),
    opportunityTable(result),
    communityTable(result, reportId),
    reportPeopleSection(reportId, REPORTS),
    h("h3", {}, "The graph"), picture,
    trendSection(report, result, REPORTS));
  showPicture(picture, reportId);
}

function segmentTable(result) {
  const segments = result.segments || result.segment_distribution;
  if (!segments) return null;
  const rows = Array.isArray(segments) ? segments.map((s) => [s.segment ?? s.name, s.count]) : Object.entries(segments);
  return [h("h3", {}, "Segments"), h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Segment"), h("th", { scope: "col" }, "People"))),
    h("tbody", {}, rows.map(([name, count]) => h("tr", {}, h("td", {}, name), h("td", {}, typeof count === "object" ? JSON.stringify(count) : count)))))];
}

function opportunityTable(result) {
  const entries = result.opportunities || result.top_opportunities || [];
  const heading = h("h3", {}, "People worth engaging");
  if (entries.length === 0) return [heading, h("p", {}, "No opportunities in this scope.")];
  const rows = entries.map((o, i) => h("tr", {},
    h("td", {}, i + 1),
    h("td", {}, o.label || o.node, o.kind === "nonuser" && h("span", { className: "tag" }, "not a member")),
    h("td", {}, o.segment),
    h("td", {}, typeof o.score === "number" ? o.score.toFixed(2) : o.score),
    h("td", {}, h("ul", {}, (o.reasons || []).map((r) => h("li", {}, r)))),
    h("td", {}, o.suggested_action || "")));
  const head = h("tr", {}, ["#", "Person", "Segment", "Score", "Why", "Suggested action"].map((t) => h("th", { scope: "col" }, t)));
  return [heading, h("div", { className: "table-wrap" }, h("table", { className: "opportunities" }, h("thead", {}, head), h("tbody", {}, rows)))];
}

function communityTable(result, reportId) {
  const communities = result.communities || [];
  if (!communities.length) return null;
  const shown = (result.graph?.communities ?? communities.length) > communities.length ? ` (the ${communities.length} largest of ${result.graph.communities})` : "";
  return [h("h3", {}, `Communities${shown}`), h("div", { className: "table-wrap" }, h("table", { className: "communities", "aria-label": "Communities" },
    h("thead", {}, h("tr", {}, ["Community", "People", "Reach", "Segments", "Key members"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, communities.map((c) => h("tr", { "data-community": c.index },
      h("td", {}, h("a", { href: communityHref(reportId, c.index) }, `Community ${c.index}`)),
      h("td", {}, formatCount(c.size)),
      h("td", {}, typeof c.reach_share === "number" ? `${Math.round(c.reach_share * 100)}%` : "–"),
      h("td", {}, Object.entries(c.segments || {}).map(([name, n]) => `${name} ${n}`).join(", ")),
      h("td", {}, (c.key_members || []).slice(0, 3).map(personName).join(", ")))))))];
}

/** #/analytics/reports/{id}/communities/{index}: one community of a report, its key people and everyone in it. */
export async function communityView(main, reportId, index) {
  const error = errorBox();
  const body = h("div", {}, h("p", { role: "status" }, "Loading the community…"));
  replace(main, h("p", { className: "crumbs" }, h("a", { href: "#/analytics" }, "Analytics"), " / ",
    h("a", { href: `#/analytics/reports/${reportId}` }, `Report ${reportId}`), ` / Community ${index}`),
  h("h2", {}, `Community ${index} of report ${reportId}`), error, body);
  let community;
  try {
    community = await api("GET", REPORTS.community(reportId, index));
  } catch (problem) {
    replace(body);
    showError(error, problem);
    return null;
  }
  const kinds = community.kinds || {};
  const segments = Object.entries(community.segments || {});
  const list = (title, people, empty) => [h("h3", {}, title),
    people.length ? h("div", { className: "table-wrap" }, reportPeopleTable(people, reportId, false, title)) : h("p", {}, empty)];
  replace(body,
    h("p", { className: "community-summary" }, `${formatCount(community.size)} people: ${formatCount(kinds.member ?? 0)} members, `
      + `${formatCount(kinds.nonuser ?? 0)} not members. Customer equity (the sum of their CLV): ${formatMoney(community.customer_equity ?? 0)}.`),
    h("div", { className: "charts" },
      barChart({ title: "People of this community by segment", rows: segments.map(([name]) => name), className: "bars segments-chart",
        series: [{ name: "people", className: "bar-count", values: segments.map(([, n]) => n), format: formatCount }] }),
      funnelChart({ title: "Relationship pyramid of this community", levels: pyramidLevels(community.pyramid) })),
    list("Key members", community.key_members || [], "Nobody."),
    list("Brokers", community.brokers || [], "Nobody here links communities."),
    list("Best opportunities", community.opportunities || [], "No opportunities in this community."),
    reportPeopleSection(reportId, REPORTS, { community: index }));
  return null;
}

async function fetchBlob(reportId, format) {
  const response = await api("GET", REPORTS.export(reportId, format), { raw: true });
  return response.blob();
}

async function showPicture(figure, reportId) {
  try {
    const url = URL.createObjectURL(await fetchBlob(reportId, "png"));
    replace(figure,
      h("img", { src: url, className: "graph-picture", alt: "The community graph: people coloured by segment, the people worth engaging highlighted." }),
      h("figcaption", {}, "Coloured by segment; the people worth engaging are highlighted."));
  } catch (problem) {
    const err = errorBox();
    replace(figure, err);
    showError(err, problem);
  }
}

function downloadButton(reportId, format, label) {
  const button = h("button", { type: "button", className: "secondary" }, label);
  button.addEventListener("click", async () => {
    try {
      const url = URL.createObjectURL(await fetchBlob(reportId, format));
      const link = h("a", { href: url, download: `report-${reportId}.${format}`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (problem) {
      announce(`The ${format} download failed: ${problem.detail || problem.message}`);
    }
  });
  return button;
}
