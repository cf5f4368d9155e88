// A React Router server build written by hand: what `react-router build` emits for an app
// whose only route below the root is the resource route `app/routes/api.$.ts`, which uses
// keyward's handler as its loader and action (a route without a component is a resource
// route: its Response goes out as it is).
import { createHandler } from "@keyward/keyward/remix";

/** The build serving keyward from `config` under /api/*. */
export function serverBuild(config) {
  const handler = createHandler(config);
  const route = (id, parentId, path, module, index) => ({ id, parentId, path, index, module });
  return {
    entry: {
      module: {
        // Renders documents; a resource route never reaches it.
        default: () => new Response("no documents here", { status: 404 }),
      },
    },
    routes: {
      root: route("root", undefined, "", {}, undefined),
      "routes/api.$": route("routes/api.$", "root", "api/*", {
        loader: handler,
        action: handler,
      }, undefined),
    },
    assets: {
      entry: { module: "/assets/entry.js", imports: [] },
      routes: {},
      url: "/assets/manifest.js",
      version: "1",
    },
    publicPath: "/",
    assetsBuildDirectory: "build/client",
    future: {},
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: "lazy", manifestPath: "/__manifest" },
  };
}
