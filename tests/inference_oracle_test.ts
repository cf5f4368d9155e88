/**
 * The inference.sh preset against the `@inferencesh/sdk` proxy's own policy, request by
 * request. The SDK's public repository (inference-sh/sdk-js, `src/proxy`: its policy tests, its
 * endpoint manifest, its client flows; see tests/testdata/inference_sdk_policy.json for the
 * commits) says what its proxy forwards and refuses; the npm release is older and checks only the
 * domain, so the policy is taken from there as data:
 *
 * - every request of its policy tests, with the status its tests expect, under the options each
 *   sets (an app list becomes the route's `body.apps`, `maxUploadBytes` its `max_upload`);
 * - every endpoint of its manifest with real id shapes, and variants of each: a trailing slash,
 *   dot segments in every spelling, escaped letters, doubled slashes, other methods (HEAD among
 *   them: the SDK's proxy matches methods exactly), other id
 *   shapes, the EventSource form, a missing body. Its proxy matches the target URL's path, as
 *   the URL parser leaves it, whole against the manifest (its tests refuse `/apps/run/` and
 *   `/tasks/{id}/../../secrets`), so a variant's verdict follows from its manifest; variants
 *   whose verdict would rest on a body rule its tests do not show are not made;
 * - every call its client flows make, by the SDK's own client (the npm release, whose client
 *   sends what the flows send), under no app list and under `ana/*`.
 *
 * Every call of the client goes through; nothing the SDK's policy refuses is forwarded, except
 * where keyward is stricter and docs/configuration.md says so; where both forward, the upstream
 * receives the path the SDK's proxy would send. The tally is printed.
 *
 * @module
 */
import assert from "node:assert/strict";
import policy from "./testdata/inference_sdk_policy.json" with { type: "json" };
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { type InferenceMock, startInferenceMock } from "./helpers/inference_mock.ts";
import { loadInferenceSdk } from "./helpers/inference_sdk.ts";

const KEY = "inf-oracle-SECRET";
const { task: TASK, chat: CHAT, tool: TOOL, message: MSG } = policy.ids;

/** keyward's counterpart of each option set of the SDK's tests, as a route. */
const OPTIONS: Record<string, string> = {
  default: "",
  all: `\n    body: { apps: ["*/*"] }`,
  ana: `\n    body: { apps: ["ana/*"] }`,
  only: `\n    body: { apps: ["ana/helper", "bob/*"] }`,
  small: `\n    body: { max_upload: 2048 }`,
};

/** One request to both proxies. */
interface Probe {
  /** Where it comes from: the SDK's tests, its manifest, a variant, its client. */
  source: string;
  options: string;
  method: string;
  /** The target URL's path (and query), as written. */
  path: string;
  body?: unknown;
  raw?: string;
  query?: boolean;
  target?: string;
  /** What the SDK's proxy answers (200: forwarded). */
  sdk: number;
}

/** What keyward did with a probe. */
interface Seen {
  status: number;
  message: string;
  /** The path the upstream received, when it received the request. */
  forwarded?: string;
  /** The body the upstream received. */
  body?: string;
}

/** An id of the API's shape: lowercase ULID. */
const ULID = "[0-7][0-9a-hjkmnp-tv-z]{25}";
const AGENT_SEGMENT = "[A-Za-z0-9._@:-]+";

/** The SDK's manifest as whole-path matchers. */
const ROUTES = policy.manifest.map(({ method, path }) => ({
  method,
  path,
  regex: new RegExp(
    "^" + path
      .replace("{namespace}", AGENT_SEGMENT)
      .replace("{name}", `(?!(?:card|versions|rules)$)${AGENT_SEGMENT}`)
      .replace(/\{(id|messageId|toolId)\}/g, ULID) +
      "$",
  ),
}));

/** The manifest route a request takes in the SDK's proxy: its path as the URL parser leaves it. */
function sdkRoute(method: string, written: string) {
  const path = new URL(`https://api.inference.sh${written}`).pathname;
  return ROUTES.find((route) => route.method === method && route.regex.test(path));
}

/** A body each endpoint takes from the SDK's client (none for those that take no body). */
const BODIES: Record<string, unknown> = {
  "POST /apps/run": { app: "ana/helper", input: { prompt: "x" } },
  "POST /files": { files: [{ uri: "", filename: "a.png", content_type: "image/png", size: 9 }] },
  "POST /agents/run": { agent: "ana/helper", input: { text: "hi", role: "user" } },
  "POST /chats": { agent: "ana/helper" },
  "POST /chats/{id}/messages": { message: "hi" },
  "POST /chats/{id}/agent": { agent: "ana/other" },
  "POST /tools/{toolId}": { result: "ok" },
};

/** A manifest path with real ids in it. */
function sample(path: string): string {
  return path
    .replace("{namespace}/{name}", "ana/helper")
    .replace("{messageId}", MSG)
    .replace("{toolId}", TOOL)
    .replace("{id}", path.startsWith("/chats") ? CHAT : TASK);
}

/** Escapes the first letter of `segment` where it first stands in `path` (`t` as `%74`). */
function escapeFirst(path: string, segment: string): string {
  const code = segment.charCodeAt(0).toString(16).toUpperCase();
  return path.replace(`/${segment}`, `/%${code}${segment.slice(1)}`);
}

/** The variants of every manifest endpoint, with the SDK's verdict on each. */
function variants(): Probe[] {
  const probes: Probe[] = [];
  const verdict = (method: string, path: string, route: string, body?: unknown) => {
    if (!sdkRoute(method, path)) return 403;
    // Its body rules read /apps/run and /files (its tests show them); a body-less one is 400.
    if (body === undefined && (route === "POST /apps/run" || route === "POST /files")) return 400;
    return 200;
  };
  const add = (method: string, path: string, route: string, body?: unknown, query = false) =>
    probes.push({
      source: "variant",
      options: "default",
      method,
      path,
      body,
      query,
      sdk: verdict(method, path, route, body),
    });
  for (const { method, path } of policy.manifest) {
    const route = `${method} ${path}`;
    const url = sample(path);
    const body = BODIES[route];
    const segments = url.slice(1).split("/");
    const first = segments[0];
    const literal = path.slice(1).split("/").filter((s) => !s.startsWith("{"));
    const rest = url.slice(first.length + 1);
    add(method, url, route, body); // the endpoint itself
    add(method, `${url}/`, route, body);
    for (const dots of ["/.", "/%2e", "/%2E", "/x/..", "/x/%2e%2e", "/x/.%2e", "/./"]) {
      add(method, url + dots, route, body);
    }
    // dot segments that resolve back to the endpoint itself
    add(method, `/${first}/.${rest}`, route, body);
    add(method, `/${first}/%2e${rest}`, route, body);
    add(method, `/${first}/x/..${rest}`, route, body);
    add(method, `/${first}/x/%2E%2E${rest}`, route, body);
    add(method, `/x/../${first}${rest}`, route, body);
    // escaped letters, an encoded slash, a doubled slash
    for (const segment of new Set([literal[0], literal.at(-1)!])) {
      add(method, escapeFirst(url, segment), route, body);
    }
    if (segments.length > 1) {
      add(method, `/${first}/${rest.slice(1).replace("/", "%2F")}`, route, body);
      add(method, `/${first}/${rest}`, route, body);
    }
    // other methods
    for (const other of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]) {
      if (other !== method) add(other, url, route, /GET|HEAD/.test(other) ? undefined : {});
    }
    // ids of other shapes, and the literal beside the id
    if (/\{(id|messageId|toolId)\}/.test(path)) {
      const id = url === sample(path) && path.includes("{toolId}")
        ? TOOL
        : path.includes("{messageId}")
        ? MSG
        : path.startsWith("/chats")
        ? CHAT
        : TASK;
      for (const other of [id.toUpperCase(), `${id}0`, id.slice(1), "stream", "list"]) {
        add(method, url.replace(id, other), route, body);
      }
    }
    // the EventSource form of the GETs
    if (method === "GET") {
      add(method, url, route, undefined, true);
      add(method, `${url}/`, route, undefined, true);
      add(method, `/${first}/.${rest}`, route, undefined, true);
    }
    // no body where the SDK's rules read one
    if (route === "POST /apps/run" || route === "POST /files") add(method, url, route);
  }
  return probes;
}

/** Sends `probe` through the route for its options; what keyward answered and forwarded. */
async function run(gw: TestGateway, mock: InferenceMock, probe: Probe): Promise<Seen> {
  const before = mock.requests.length;
  const target = probe.target === "userinfo"
    ? mock.url.replace("://", "://u:p@") + probe.path
    : mock.url + probe.path;
  const proxy = `${gw.url}/p/${probe.options}`;
  const body = probe.raw ?? (probe.body === undefined ? undefined : JSON.stringify(probe.body));
  // As the SDK's tests send them: the header form with a JSON content type, or the query form.
  const response = await fetch(
    probe.query ? `${proxy}?__inf_target=${encodeURIComponent(target)}` : proxy,
    {
      method: probe.method,
      headers: probe.query
        ? {}
        : { "x-inf-target-url": target, "content-type": "application/json" },
      body,
    },
  );
  const text = await response.text();
  let message = "";
  try {
    message = JSON.parse(text)?.error?.message ?? "";
  } catch {
    // an upstream answer that is not JSON
  }
  const sent = mock.requests.slice(before);
  assert.ok(sent.length <= 1, `${probe.method} ${probe.path} reached the API ${sent.length} times`);
  return {
    status: response.status,
    message,
    forwarded: sent[0]?.path,
    body: sent[0]?.body,
  };
}

/**
 * Where keyward is stricter than the SDK's proxy, each as docs/configuration.md states it: the
 * phrase the docs hold, and how to know a refusal for that reason.
 */
const STRICTER = [
  {
    reason: "a dot segment in the target path is refused, not resolved",
    doc: "a dot segment in a target URL's path",
    matches: (probe: Probe, seen: Seen) =>
      seen.status === 400 && /Dot segments/.test(seen.message) &&
      new URL(`https://x${probe.path}`).pathname !== probe.path.split("?")[0],
  },
  {
    reason: "an ad-hoc agent (agent_config, agent_name) is refused even without an app list",
    doc: "`agent_config` and `agent_name` on every route",
    matches: (_probe: Probe, seen: Seen) =>
      seen.status === 403 && /^"(agent_config|agent_name)" cannot be set/.test(seen.message),
  },
];

Deno.test("the inference.sh preset forwards what the SDK's proxy forwards, and refuses what it refuses", async () => {
  const mock = await startInferenceMock();
  const routes = Object.entries(OPTIONS).map(([name, extra]) => `
  - name: ${name}
    path: /p/${name}
    preset: inference.sh
    target: { hosts: ["${mock.host}"] }
    key: { env: INF_KEY }${extra}`).join("");
  const gw = await startGateway(`routes:${routes}\n`, { INF_KEY: KEY });
  const { Inference } = await loadInferenceSdk();
  try {
    const cases: Probe[] = policy.cases.map((c) => ({ source: "policy tests", ...c }));
    // The manifest path rule reproduces every verdict of the SDK's tests on a path it lists
    // nowhere: the variants rest on it.
    for (const c of cases) {
      if (c.target || sdkRoute(c.method, c.path)) continue;
      assert.equal(c.sdk, 403, `${c.method} ${c.path}: the SDK's tests expect ${c.sdk}`);
    }
    const probes = [...cases, ...variants()];
    const tally = { requests: 0, bothForward: 0, bothRefuse: 0, stricter: 0, otherStatus: 0 };
    const stricter = new Map<string, string[]>();
    const mismatches: string[] = [];
    for (const probe of probes) {
      const seen = await run(gw, mock, probe);
      const what =
        `${probe.options} ${probe.method} ${probe.path}${probe.query ? " (query)" : ""}` +
        ` ${probe.raw ?? JSON.stringify(probe.body) ?? ""}`;
      tally.requests++;
      const sdkForwards = probe.sdk === 200;
      const forwarded = seen.forwarded !== undefined;
      if (forwarded !== (seen.status === 200)) {
        mismatches.push(`${what}: ${seen.status} but forwarded=${forwarded}`);
      }
      if (sdkForwards && forwarded) {
        tally.bothForward++;
        // the path the SDK's proxy would send: the URL parser's, escapes in upper case
        const sdkPath = new URL(`https://x${probe.path}`).pathname
          .replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase());
        if (seen.forwarded !== sdkPath) {
          mismatches.push(`${what}: sent ${seen.forwarded}, not ${sdkPath}`);
        }
        if (body(probe) !== undefined && seen.body !== body(probe)) {
          mismatches.push(`${what}: the body changed on the way`);
        }
      } else if (!sdkForwards && !forwarded) {
        tally.bothRefuse++;
        if (seen.status !== probe.sdk) tally.otherStatus++;
      } else if (!sdkForwards && forwarded) {
        mismatches.push(`${what}: the SDK's proxy refuses it (${probe.sdk}), keyward forwarded it`);
      } else {
        const known = STRICTER.find((s) => s.matches(probe, seen));
        if (!known) {
          mismatches.push(
            `${what}: the SDK's proxy forwards it, keyward ${seen.status} ${seen.message}`,
          );
        } else {
          tally.stricter++;
          stricter.set(known.reason, [...stricter.get(known.reason) ?? [], what]);
        }
      }
    }

    // The SDK's own client, through the preset: every call of its flows goes through, under no
    // app list and under `ana/*` (its client-flows test runs both), and a form widget's answer.
    const flows = async (options: string) => {
      const before = gw.logs.length;
      const client = new Inference({
        proxyUrl: `${gw.url}/p/${options}`,
        baseUrl: mock.url,
        pollIntervalMs: 5,
      });
      const image = new Blob(["png"], { type: "image/png" });
      await client.run({ app: "ana/helper", input: { image } });
      await client.run({ app: "ana/helper@v1", input: { prompt: "x" } }, { stream: false });
      await client.run({ app: "ana/helper", input: {} }, { wait: false });
      await client.cancel(TASK);
      await client.getTask(TASK);
      const agent = client.agent("ana/helper");
      await agent.sendMessage("hi", { onMessage: () => {} });
      await agent.sendMessage("again", { onMessage: () => {} });
      await client.agent("ana/helper").sendMessage("poll", { stream: false });
      await agent.getChat();
      await agent.stopChat();
      await agent.submitToolResult(TOOL, "ok");
      agent.disconnect();
      // The chat provider's calls (@inferencesh/sdk/agent's api module, which the package does
      // not export: each sends, through the client's own http, what is written here).
      const http = client.http;
      await client.uploadFile(new Blob(["png"], { type: "image/png" })); // sendMessage's file
      const chat = await http.request("post", "/chats", { data: { agent: "ana/helper" } });
      assert.ok(chat);
      await http.request("post", `/chats/${CHAT}/messages`, { data: { message: "hi" } });
      // an ad-hoc config's chat names its core app
      await http.request("post", "/chats", { data: { agent: "ana/model@v2" } });
      await http.request("get", "/agents/ana/helper"); // fetchAgentInfo
      await http.request("get", `/chats/${CHAT}`); // fetchChat
      await http.request("get", `/chats/${CHAT}/messages`, { params: {} });
      await http.request("post", `/chats/${CHAT}/stop`); // stopChat
      await http.request("post", `/chats/messages/${MSG}/cancel`); // cancelMessage
      await http.request("post", `/chats/${CHAT}/agent`, { data: { agent: "ana/other" } });
      await http.request("post", `/tools/${TOOL}`, { data: { result: "ok" } }); // submitToolResult
      const form = {
        action: { type: "form_submit", payload: { city: "Oslo" } },
        form_data: { city: "Oslo" },
      };
      await http.request("post", `/tools/${TOOL}`, { data: form });
      const stream = await fetch(`${gw.url}/p/${options}`, {
        headers: { "x-inf-target-url": `${mock.url}/chats/${CHAT}/stream` },
      });
      await stream.text(); // chatStreamRequest
      const calls = gw.logs.slice(before);
      assert.ok(calls.length >= 25, `${calls.length} calls`);
      for (const call of calls) {
        assert.equal(call.status, 200, `${call.method} ${call.target}: ${call.error}`);
      }
      return calls.length;
    };
    const clientCalls = (await flows("default")) + (await flows("ana"));
    tally.requests += clientCalls;
    tally.bothForward += clientCalls;

    // An ad-hoc agent from the client: the SDK's proxy takes its config without an app list;
    // keyward never does (documented).
    const client = new Inference({ proxyUrl: `${gw.url}/p/default`, baseUrl: mock.url });
    const before = mock.requests.length;
    await assert.rejects(
      () =>
        client.agent({ core_app: { ref: "ana/model@v2" } }).sendMessage("hi", { stream: false }),
      (e: { statusCode?: number }) => e.statusCode === 403,
    );
    assert.equal(mock.requests.length, before);
    tally.requests++;
    tally.stricter++;
    stricter.set(STRICTER[1].reason, [
      ...stricter.get(STRICTER[1].reason) ?? [],
      "client.agent({ core_app })",
    ]);

    const sources = {
      policyTests: cases.length,
      variants: probes.length - cases.length,
      clientCalls: clientCalls + 1,
    };
    console.log(
      JSON.stringify({
        ...tally,
        sources,
        stricterBy: Object.fromEntries([...stricter].map(([k, v]) => [k, v.length])),
      }),
    );
    assert.deepEqual(mismatches, []);
    assert.equal(tally.bothForward + tally.bothRefuse + tally.stricter, tally.requests);
    // Each way keyward is stricter is written where users read the preset's rules.
    const docs = await Deno.readTextFile(new URL("../docs/configuration.md", import.meta.url));
    for (const { doc } of STRICTER) assert.ok(docs.replace(/\s+/g, " ").includes(doc), doc);
    assert.ok(tally.bothForward > 100 && tally.bothRefuse > 300, JSON.stringify(tally));
  } finally {
    await gw.close();
    await mock.close();
  }
});

/** The body a probe sends, as text. */
function body(probe: Probe): string | undefined {
  return probe.raw ?? (probe.body === undefined ? undefined : JSON.stringify(probe.body));
}
