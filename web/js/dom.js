// Building the page without HTML strings: every text the server sends goes in as text,
// never as markup (post bodies are Markdown *source*: docs/realtime.md, "Bodies are text").

/**
 * Create an element: h("button", {type: "button", onclick: fn, "aria-pressed": "true"}, "Label", child).
 * Props starting with "on" become listeners; `className`, `hidden`, `value`, `disabled` and
 * the like are set as properties; everything else as attributes. Children are nodes or text.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name in PROPERTIES) {
      node[PROPERTIES[name]] = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

const PROPERTIES = {
  className: "className", hidden: "hidden", value: "value", disabled: "disabled", checked: "checked",
  htmlFor: "htmlFor", required: "required", maxLength: "maxLength", minLength: "minLength",
};

/** Append nodes or text (nested arrays, null and false are skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside `parent` with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A labelled form field: <label for=id>text</label> followed by the control. */
export function field(label, control, hint) {
  const id = control.id || (control.id = uniqueId("field"));
  const parts = [h("label", { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, className: "hint" }, hint));
  }
  return h("div", { className: "field" }, parts);
}

let counter = 0;
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Read the fields of a form into an object (trimmed strings). */
export function formValues(form) {
  const values = {};
  for (const [name, value] of new FormData(form).entries()) values[name] = typeof value === "string" ? value.trim() : value;
  return values;
}

/** Say something to screen-reader users without moving focus (the page's polite live region). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node in a later task makes repeated messages be read again.
  setTimeout(() => { region.textContent = text; }, 50);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** <time datetime=iso>local date and time</time> */
export function timeOf(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return h("time", { datetime: iso }, Number.isNaN(date.getTime()) ? iso : timeFormat.format(date));
}

/** A problem (REST) or ack error (Socket.IO) as one human sentence, with field messages. */
export function describeError(error) {
  if (!error) return "Something went wrong.";
  const fields = error.errors ? Object.entries(error.errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`) : [];
  const main = error.detail || error.message || String(error);
  return fields.length ? `${main} (${fields.join("; ")})` : main;
}

/** An error paragraph that screen readers announce at once. */
export function errorBox() {
  return h("p", { className: "error", role: "alert", hidden: true });
}

export function showError(box, error) {
  box.textContent = error ? describeError(error) : "";
  box.hidden = !error;
}

/** A random id for idempotent sends (crypto.randomUUID needs a secure context; this does not). */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Render the current view again (the router cleans the old one up first). */
export function reloadView() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}
