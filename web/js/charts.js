// Small charts as inline SVG, built here element by element (no library, no build step, no
// markup strings). Each chart is a <figure> whose <svg role="img"> carries an aria-label and a
// <title> that state every number drawn, so a screen reader (and a test) reads what the eye sees.
// Colours come from classes in app.css (the Content-Security-Policy allows no inline styles).

import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const count = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export const formatCount = (n) => count.format(n);
export const formatMoney = (n) => money.format(n);

/** An SVG element: s("rect", {x: 0, width: 10}, child...). Attributes only; text children as text nodes. */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** <figure> with an accessible <svg role="img"> and a caption. `label` states every number drawn. */
function figure(className, title, label, caption, width, height, parts) {
  const svg = s("svg", { role: "img", "aria-label": label, viewBox: `0 0 ${width} ${height}`, width, height,
    preserveAspectRatio: "xMinYMin meet", class: "chart-svg" }, s("title", {}, label), parts);
  return h("figure", { className: `chart ${className}` }, h("p", { className: "chart-title", "aria-hidden": "true" }, title), svg,
    caption && h("figcaption", {}, caption));
}

/**
 * Horizontal bars, one row per item, each with its value written beside it.
 * series: [{name, className, values: [number|null per row], format}] (one or two series: grouped bars).
 */
export function barChart({ title, rows, series, caption, className = "bars" }) {
  const labelWidth = 120;
  const plot = 300;
  const barHeight = 16;
  const gap = 10;
  const legend = series.length > 1 ? 22 : 0;
  const rowHeight = series.length * barHeight + gap;
  const height = legend + rows.length * rowHeight + gap;
  const width = labelWidth + plot + 120;
  const max = Math.max(1, ...series.flatMap((one) => one.values.filter((v) => typeof v === "number")));
  const parts = [];
  if (legend) {
    series.forEach((one, i) => {
      const x = labelWidth + i * 150;
      parts.push(s("rect", { x, y: 4, width: 12, height: 12, class: one.className }),
        s("text", { x: x + 18, y: 14, class: "chart-text" }, one.name));
    });
  }
  rows.forEach((row, r) => {
    const top = legend + gap / 2 + r * rowHeight;
    parts.push(s("text", { x: labelWidth - 8, y: top + (series.length * barHeight) / 2 + 4, "text-anchor": "end", class: "chart-text" }, row));
    series.forEach((one, i) => {
      const value = one.values[r];
      const y = top + i * barHeight;
      const w = typeof value === "number" ? Math.max(value > 0 ? 2 : 0, (value / max) * plot) : 0;
      parts.push(s("rect", { x: labelWidth, y: y + 1, width: w, height: barHeight - 2, class: one.className }),
        s("text", { x: labelWidth + w + 6, y: y + barHeight - 4, class: "chart-text chart-value" },
          typeof value === "number" ? one.format(value) : "n/a"));
    });
  });
  const label = `${title}: ${rows.map((row, r) => `${row} ${series.map((one) => (series.length > 1 ? `${one.name} ` : "")
    + (typeof one.values[r] === "number" ? one.format(one.values[r]) : "n/a")).join(", ")}`).join("; ")}`;
  return figure(className, title, label, caption, width, height, parts);
}

/**
 * The relationship pyramid as a funnel: each level's bar is as wide as the number of people who
 * reached at least that level (a person at a level met every level below it), so it narrows
 * honestly; the people who are at exactly that level are written beside it.
 * levels: [{level, name, count}] as GET /brands/{id}/people/segments gives `pyramid` (level 0 = none yet).
 */
export function funnelChart({ title, levels, caption }) {
  const climbed = levels.filter((l) => l.level > 0).sort((a, b) => a.level - b.level);
  const none = levels.find((l) => l.level === 0)?.count ?? 0;
  const reached = climbed.map((l) => climbed.filter((m) => m.level >= l.level).reduce((sum, m) => sum + m.count, 0));
  const width = 560;
  const centre = 200;
  const half = 180;
  const step = 34;
  const max = Math.max(1, reached[0] || 0);
  const parts = [];
  climbed.forEach((level, i) => {
    const top = 8 + i * step;
    const w1 = (reached[i] / max) * half;
    const w2 = ((reached[i + 1] ?? reached[i]) / max) * half;
    const points = [[centre - w1, top], [centre + w1, top], [centre + w2, top + step - 4], [centre - w2, top + step - 4]];
    parts.push(
      s("polygon", { points: points.map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" "), class: `funnel-step funnel-${i % 2}` }),
      s("text", { x: centre, y: top + step / 2 + 2, "text-anchor": "middle", class: w1 > 24 ? "chart-text chart-on-bar" : "chart-text" }, formatCount(reached[i])),
      s("text", { x: centre + half + 12, y: top + step / 2 + 2, class: "chart-text" },
        `${levelName(level)}: ${formatCount(level.count)} here`));
  });
  const height = 16 + climbed.length * step;
  const label = `${title}: ${climbed.map((l, i) => `${levelName(l)} ${formatCount(reached[i])} reached, ${formatCount(l.count)} at this level`).join("; ")}; no level yet ${formatCount(none)}`;
  return figure("funnel", title, label, caption ?? `Width: people who reached at least that level. Not on the pyramid yet: ${formatCount(none)}.`,
    width, height, parts);
}

export function levelName(level) {
  return level.level === 0 || !level.name ? "none yet" : level.name.replace(/_/g, "-");
}

/**
 * Recency against frequency for the people given (each a dot; its area grows with monetary value).
 * Only buyers have a recency; the others are counted in the caption.
 */
export function rfmScatter({ title, people, caption }) {
  const buyers = people.filter((p) => typeof p.recency_days === "number");
  const width = 520;
  const height = 270;
  const left = 50;
  const bottom = 36;
  const plotW = width - left - 20;
  const plotH = height - bottom - 24;
  const maxR = Math.max(1, ...buyers.map((p) => p.recency_days));
  const maxF = Math.max(1, ...buyers.map((p) => p.frequency || 0));
  const maxM = Math.max(1, ...buyers.map((p) => p.monetary || 0));
  const x = (days) => left + (days / maxR) * plotW;
  const top = 24;
  const y = (f) => top + plotH - (f / maxF) * plotH;
  const parts = [
    s("line", { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, class: "chart-axis" }),
    s("line", { x1: left, y1: top, x2: left, y2: top + plotH, class: "chart-axis" }),
    s("text", { x: left, y: height - 4, class: "chart-text" }, "0 days"),
    s("text", { x: left + plotW, y: height - 4, "text-anchor": "end", class: "chart-text" }, `${plain.format(maxR)} days since the last purchase`),
    s("text", { x: left - 6, y: top + 4, "text-anchor": "end", class: "chart-text" }, formatCount(maxF)),
    s("text", { x: left - 6, y: top + plotH, "text-anchor": "end", class: "chart-text" }, "0"),
    s("text", { x: left + 6, y: 10, class: "chart-text" }, "purchases"),
  ];
  for (const p of buyers) {
    const r = 3 + 9 * Math.sqrt((p.monetary || 0) / maxM);
    parts.push(s("circle", { cx: x(p.recency_days).toFixed(1), cy: y(p.frequency || 0).toFixed(1), r: r.toFixed(1), class: `dot segment-${p.segment}` },
      s("title", {}, `${personName(p)}: ${plain.format(p.recency_days)} days, ${formatCount(p.frequency)} purchases, ${formatMoney(p.monetary || 0)} spent (${p.segment})`)));
  }
  const label = `${title}: ${buyers.length} buyers drawn, ${people.length - buyers.length} without purchases left out`;
  if (!buyers.length) return h("p", { className: "hint" }, `${title}: nobody on this page has bought anything, so there is nothing to draw.`);
  return figure("rfm", title, label, caption, width, height, parts);
}

export function personName(p) {
  return p.display_name || p.label || p.name || p.external_id || (p.stakeholder_id ? `#${p.stakeholder_id}` : p.node) || "?";
}
