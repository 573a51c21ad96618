// @ts-check
/**
 * The API documentation page: renders the OpenAPI document the server
 * serves at /api/openapi.json, one collapsible section per operation, and
 * lets a user try each one ("Try it out") with a token, or a user name and
 * password, they enter on the page.
 *
 * Plain JavaScript with JSDoc types, checked by `tsc --strict --checkJs`,
 * so the page needs no build step; it loads nothing from another origin.
 * Requests carry only the credentials entered here (`credentials: "omit"`):
 * a signed-in token page's session cookie never goes with them.
 */

/**
 * @typedef {{ [key: string]: any }} Json
 * @typedef {{ name: string, in: "path" | "query", required?: boolean, description?: string, schema: Json }} Parameter
 * @typedef {{
 *   operationId: string, tags: string[], summary: string, description?: string,
 *   parameters?: Parameter[], requestBody?: Json, responses: Json, security: Json[],
 *   "x-tessera-action"?: string
 * }} Operation
 */

import { byId } from "./dom.js";

const METHODS = ["get", "post", "put", "patch", "delete"];


/**
 * An element with text content and attributes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{ [name: string]: string }} [attributes]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function make(tag, attributes = {}, text) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * The schema a `$ref` names, or the schema itself.
 * @param {Json} doc
 * @param {Json} schema
 * @returns {Json}
 */
function resolve(doc, schema) {
  const ref = schema?.$ref;
  if (typeof ref !== "string") return schema;
  return doc.components.schemas[ref.replace("#/components/schemas/", "")] ?? {};
}

/**
 * An example value of a schema: its first example, else its required
 * members filled with placeholders.
 * @param {Json} doc
 * @param {Json} schema
 * @param {number} depth
 * @returns {unknown}
 */
function example(doc, schema, depth = 0) {
  const s = resolve(doc, schema);
  if (depth > 6) return null;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if ("const" in s) return s.const;
  if (Array.isArray(s.oneOf)) return example(doc, s.oneOf[0], depth + 1);
  if (Array.isArray(s.enum)) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "object": {
      /** @type {Json} */
      const value = {};
      for (const name of s.required ?? []) value[name] = example(doc, s.properties?.[name] ?? {}, depth + 1);
      return value;
    }
    case "array":
      return [];
    case "integer":
    case "number":
      return s.minimum ?? 0;
    case "boolean":
      return false;
    case "string":
      return "";
    default:
      return null;
  }
}

/** @returns {string | undefined} the Authorization value for the entered credentials */
function authorization() {
  const token = byId("docs-token", HTMLInputElement).value.trim();
  if (token) return `Bearer ${token}`;
  const user = byId("docs-user", HTMLInputElement).value;
  const password = byId("docs-password", HTMLInputElement).value;
  if (!user) return undefined;
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/**
 * Sends the operation's request as the form describes it and shows the
 * answer.
 * @param {string} method
 * @param {string} path
 * @param {Operation} op
 * @param {HTMLElement} section
 */
async function execute(method, path, op, section) {
  const id = op.operationId;
  const status = byId(`${id}-status`, HTMLElement);
  const answer = byId(`${id}-answer`, HTMLElement);
  const error = byId(`${id}-error`, HTMLElement);
  error.hidden = true;
  status.textContent = "not sent";
  answer.textContent = "";
  let url = path;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    const input = /** @type {HTMLInputElement} */ (section.querySelector(`[data-param="${p.name}"]`));
    const value = input.value.trim();
    if (p.in === "path") {
      if (!value) {
        error.textContent = `${p.name} is required.`;
        error.hidden = false;
        input.focus();
        return;
      }
      url = url.replace(`{${p.name}}`, p.name === "path" ? encodeURI(value) : encodeURIComponent(value));
    } else if (value) {
      query.set(p.name, value);
    }
  }
  const search = query.toString();
  if (search) url += `?${search}`;
  /** @type {{ [name: string]: string }} */
  const headers = {};
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  /** @type {RequestInit} */
  const init = { method: method.toUpperCase(), headers, credentials: "omit", cache: "no-store" };
  if (op.requestBody) {
    const body = byId(`${id}-body`, HTMLTextAreaElement).value;
    try {
      JSON.parse(body);
    } catch {
      error.textContent = "The body is not valid JSON.";
      error.hidden = false;
      byId(`${id}-body`, HTMLElement).focus();
      return;
    }
    headers["Content-Type"] = "application/json";
    init.body = body;
  }
  status.textContent = "Sending…";
  answer.textContent = "";
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    let shown = text;
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not JSON: shown as it came.
    }
    status.textContent = `${response.status} ${response.statusText}`.trim();
    answer.textContent = shown || "(no body)";
  } catch (e) {
    status.textContent = "The request failed";
    answer.textContent = String(e);
  }
}

/**
 * One operation: a collapsible section with its documentation and a form
 * to try it.
 * @param {Json} doc
 * @param {string} method
 * @param {string} path
 * @param {Operation} op
 * @returns {HTMLDetailsElement}
 */
function operation(doc, method, path, op) {
  const id = op.operationId;
  const details = make("details", { class: "operation", id });
  const summary = make("summary");
  summary.append(make("span", { class: "method" }, method), make("span", { class: "path" }, path), make("span", {}, op.summary));
  details.append(summary);
  const body = make("div");
  details.append(body);
  if (op.description) body.append(make("p", {}, op.description));
  const schemes = op.security.map((s) => Object.keys(s)[0]);
  body.append(make("p", { class: "hint" }, schemes.length ? `Credentials: ${schemes.join(", ")}.` : "No credentials needed."));

  const form = make("form", { "aria-label": `Try ${method.toUpperCase()} ${path}`, novalidate: "" });
  for (const p of op.parameters ?? []) {
    const field = make("div", { class: "field" });
    const inputId = `${id}-${p.in}-${p.name}`;
    const label = make("label", { for: inputId }, `${p.name}${p.required ? " (required)" : ""} · ${p.in}`);
    const input = make("input", { id: inputId, "data-param": p.name, spellcheck: "false", autocomplete: "off" });
    if (p.description) {
      input.setAttribute("aria-describedby", `${inputId}-hint`);
      field.append(label, input, make("p", { class: "hint", id: `${inputId}-hint` }, p.description));
    } else {
      field.append(label, input);
    }
    form.append(field);
  }
  if (op.requestBody) {
    const schema = op.requestBody.content["application/json"].schema;
    const field = make("div", { class: "field" });
    field.append(make("label", { for: `${id}-body` }, "Body (JSON)"));
    const textarea = make("textarea", { id: `${id}-body`, rows: "8", spellcheck: "false" });
    textarea.value = JSON.stringify(example(doc, schema), null, 2);
    field.append(textarea);
    form.append(field);
  }
  const error = make("p", { class: "error", id: `${id}-error`, role: "alert" });
  error.hidden = true;
  const actions = make("div", { class: "actions" });
  actions.append(make("button", { type: "submit" }, "Execute"));
  form.append(error, actions);
  const result = make("div", { "aria-live": "polite" });
  result.append(
    make("p", {}, ""),
    make("pre", {
      class: "answer",
      id: `${id}-answer`,
      tabindex: "0",
      role: "region",
      "aria-label": `Response of ${method.toUpperCase()} ${path}`,
    }),
  );
  const statusLine = /** @type {HTMLElement} */ (result.firstChild);
  statusLine.append("Response: ", make("strong", { id: `${id}-status` }, "not sent yet"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void execute(method, path, op, form);
  });
  body.append(form, result);
  return details;
}

async function main() {
  const error = byId("docs-error", HTMLElement);
  let doc;
  try {
    const response = await fetch("/api/openapi.json", { credentials: "omit" });
    if (!response.ok) throw new Error(`${response.status}`);
    doc = await response.json();
  } catch (e) {
    error.textContent = `The OpenAPI document could not be read (${String(e)}).`;
    error.hidden = false;
    return;
  }
  byId("docs-intro", HTMLElement).textContent = `${doc.info.title} ${doc.info.version}: ${doc.info.description}`;
  /** @type {Map<string, HTMLElement>} */
  const sections = new Map();
  const container = byId("docs-operations", HTMLElement);
  // Sections in the document's order of tags, each with its description.
  for (const tag of /** @type {{ name: string, description?: string }[]} */ (doc.tags ?? [])) {
    const section = make("section", { class: "card", "aria-labelledby": `tag-${tag.name}` });
    section.append(make("h2", { id: `tag-${tag.name}` }, tag.name[0].toUpperCase() + tag.name.slice(1)));
    if (tag.description) section.append(make("p", { class: "muted" }, tag.description));
    sections.set(tag.name, section);
    container.append(section);
  }
  const toc = byId("docs-toc", HTMLElement);
  toc.append(make("h2", {}, "Operations"));
  const list = make("ul", { class: "toc-list" });
  toc.append(list);
  for (const [path, item] of Object.entries(/** @type {Json} */ (doc.paths))) {
    for (const method of METHODS) {
      /** @type {Operation | undefined} */
      const op = item[method];
      if (!op) continue;
      const tag = op.tags[0] ?? "other";
      let section = sections.get(tag);
      if (!section) {
        section = make("section", { class: "card", "aria-labelledby": `tag-${tag}` });
        section.append(make("h2", { id: `tag-${tag}` }, tag[0].toUpperCase() + tag.slice(1)));
        sections.set(tag, section);
        container.append(section);
      }
      section.append(operation(doc, method, path, op));
      const entry = make("li");
      entry.append(make("a", { href: `#${op.operationId}` }, `${method.toUpperCase()} ${path}`));
      list.append(entry);
    }
  }
  toc.hidden = false;
  // A link to an operation opens it.
  const open = () => {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target instanceof HTMLDetailsElement) target.open = true;
  };
  window.addEventListener("hashchange", open);
  open();
}

void main();
