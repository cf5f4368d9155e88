/**
 * Every kind of request a page can make its visitor's browser send, as one page that sends
 * them all: `fetch` in `cors` and `no-cors` mode, `sendBeacon`, form posts in the three
 * encodings, `<img>`, `<script>`, stylesheets, prefetch, `EventSource` and `<iframe>`. Each
 * kind goes to its own path so a test can tell from the server's log which ones arrived.
 * Top-level navigations leave the page, so tests make them apart (see {@linkcode navigationLink}).
 *
 * @module
 */

/** The kinds of request {@linkcode requestKindsPage} sends, and how each is sent. */
export const REQUEST_KINDS = {
  "fetch-text-post": "fetch POST, content-type text/plain (cors mode, no preflight)",
  "fetch-cors-get": "fetch GET (cors mode)",
  "fetch-nocors-post": "fetch POST, mode no-cors",
  "fetch-nocors-get": "fetch GET, mode no-cors",
  "beacon": "navigator.sendBeacon",
  "form-urlencoded": "form POST, application/x-www-form-urlencoded",
  "form-text": "form POST, text/plain",
  "form-multipart": "form POST, multipart/form-data",
  "img": "<img src>",
  "script": "<script src>",
  "style": '<link rel="stylesheet">',
  "prefetch": '<link rel="prefetch">',
  "eventsource": "EventSource",
  "iframe": "<iframe src>",
} as const;

/** One kind of request. */
export type RequestKind = keyof typeof REQUEST_KINDS;

/** The names of every kind. */
export const ALL_KINDS = Object.keys(REQUEST_KINDS) as RequestKind[];

/**
 * An HTML page that, once loaded, sends one request of every kind to `urlFor(kind)` and sets
 * `window.sent = true`. The page cannot read any answer; it only makes the browser send.
 *
 * @example
 * ```ts
 * const html = requestKindsPage((kind) => `http://127.0.0.1:8080/api/${kind}`);
 * ```
 */
export function requestKindsPage(urlFor: (kind: RequestKind) => string): string {
  const urls = Object.fromEntries(ALL_KINDS.map((kind) => [kind, urlFor(kind)]));
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>another site</title></head>
<body><h1>A page on another site</h1><ul id="log"></ul>
<script>
const U = ${JSON.stringify(urls)};
const note = (text) => {
  const li = document.createElement("li");
  li.textContent = text;
  document.getElementById("log").append(li);
};
const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "spend" }] });
const form = (url, enctype, name) => {
  const frame = document.createElement("iframe");
  frame.name = name;
  document.body.append(frame);
  const f = document.createElement("form");
  f.method = "post";
  f.enctype = enctype;
  f.action = url;
  f.target = name;
  const input = document.createElement("input");
  input.name = '{"model":"gpt-4o-mini","x":"';
  input.value = '"}';
  f.append(input);
  document.body.append(f);
  f.submit();
};
const element = (tag, props, parent = document.body) => {
  const e = Object.assign(document.createElement(tag), props);
  parent.append(e);
};
(async () => {
  const settle = (p, kind) => p.then((r) => note(kind + ": " + r.type + " " + r.status), (e) => note(kind + ": " + e));
  await Promise.all([
    settle(fetch(U["fetch-text-post"], { method: "POST", headers: { "content-type": "text/plain" }, body }), "fetch-text-post"),
    settle(fetch(U["fetch-cors-get"]), "fetch-cors-get"),
    settle(fetch(U["fetch-nocors-post"], { method: "POST", mode: "no-cors", body }), "fetch-nocors-post"),
    settle(fetch(U["fetch-nocors-get"], { mode: "no-cors" }), "fetch-nocors-get"),
  ]);
  note("beacon: " + navigator.sendBeacon(U["beacon"], body));
  form(U["form-urlencoded"], "application/x-www-form-urlencoded", "f1");
  form(U["form-text"], "text/plain", "f2");
  form(U["form-multipart"], "multipart/form-data", "f3");
  element("img", { src: U["img"], onerror: () => note("img: error") });
  element("script", { src: U["script"], onerror: () => note("script: error") });
  element("link", { rel: "stylesheet", href: U["style"] }, document.head);
  element("link", { rel: "prefetch", href: U["prefetch"] }, document.head);
  const events = new EventSource(U["eventsource"]);
  events.onerror = () => { note("eventsource: error"); events.close(); };
  events.onmessage = (e) => note("eventsource: " + e.data);
  element("iframe", { src: U["iframe"] });
  window.sent = true;
})();
</script></body></html>`;
}

/**
 * An HTML page with one link (`#go`) to `url`: clicking it is a top-level navigation from
 * this page's site, as a visitor following a link would make.
 */
export function navigationLink(url: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>link</title></head>
<body><a id="go" href="${url}">a link to the gateway</a></body></html>`;
}
