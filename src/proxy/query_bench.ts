/**
 * Hot-path cost of dropping the client's credentials from a query, upstream URL included:
 * Gemini's `?alt=sse` stripped as a string before the URL is built, against what the
 * resolver did before (the URL's URLSearchParams, one delete per name).
 *
 * @module
 */
import { queryDropSet, stripQuery } from "./query.ts";

const names = ["key", "$key", "access_token", "userProject", "quotaUser"];
const drop = queryDropSet(names)!;
const base = "https://generativelanguage.googleapis.com/v1beta/models/m:streamGenerateContent";

Deno.bench("query: ?alt=sse, stripQuery then URL", { group: "query", baseline: true }, () => {
  new URL(base + stripQuery("?alt=sse", drop));
});

Deno.bench("query: ?alt=sse&key=x, stripQuery then URL", { group: "query" }, () => {
  new URL(base + stripQuery("?alt=sse&key=x", drop));
});

Deno.bench("query: ?alt=sse, URL then searchParams.delete (before)", { group: "query" }, () => {
  const url = new URL(`${base}?alt=sse`);
  for (const name of names) url.searchParams.delete(name);
});

Deno.bench("query: no query, URL only", { group: "query" }, () => {
  new URL(base + stripQuery("", drop));
});
