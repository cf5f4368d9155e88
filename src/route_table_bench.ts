/**
 * Hot-path cost of finding a request's route: the same lookups with 1 route and with 1,000
 * (the bench's decoys), so the two rows show whether matching grows with the route count.
 *
 * @module
 */
import { RouteTable } from "./route_table.ts";

function table(decoys: number): RouteTable<string> {
  const routes = new RouteTable<string>();
  for (let i = 0; i < decoys; i++) routes.add(`/decoy${i}`, "path", `decoy${i}`);
  routes.add("/openai", "path", "openai");
  routes.add("/api/inference/proxy", "target", "inference");
  return routes;
}

const one = table(0);
const thousand = table(999);
const PATH = "/openai/v1/chat/completions";

Deno.bench("route match: 1 route", { group: "route match", baseline: true }, () => {
  one.find(PATH);
});

Deno.bench("route match: 1,000 routes", { group: "route match" }, () => {
  thousand.find(PATH);
});

Deno.bench("route match: 1,000 routes, no route matches", { group: "route match" }, () => {
  thousand.find("/unknown/v1/chat/completions");
});

Deno.bench("route match: 1,000 routes, target-mode route", { group: "route match" }, () => {
  thousand.find("/api/inference/proxy");
});
