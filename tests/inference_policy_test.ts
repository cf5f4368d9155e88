/**
 * The inference.sh preset against a recording mock of the API, through a target route as the
 * `@inferencesh/sdk` proxy protocol uses it: the SDK's own app runs, agent chats and uploads
 * work; literal routes beside id routes, visitor-set fields (in every case and folding, and
 * repeated), approvals and account calls are refused, and none of them reaches the mock.
 */
import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "./helpers/gateway.ts";
import { IDS, type InferenceMock, startInferenceMock } from "./helpers/inference_mock.ts";
import { type InferenceClient, loadInferenceSdk } from "./helpers/inference_sdk.ts";

const KEY = "inf-server-SECRET";
const { task: TASK, chat: CHAT, tool: TOOL, run: RUN, interrupt: INTERRUPT } = IDS;
const MSG = IDS.userMessage;

interface Setup {
  mock: InferenceMock;
  gw: TestGateway;
  /** An SDK client through the open route. */
  client: InferenceClient;
  /** An SDK client through the route with `body.apps: [acme/*]` and `max_upload: 1kb`. */
  acme: InferenceClient;
  /** Sends one request through the open route as the SDK would, answering status and body. */
  send(
    method: string,
    path: string,
    body?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; message: string }>;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const { Inference } = await loadInferenceSdk();
  const mock = await startInferenceMock();
  const target = `{ header: x-inf-target-url, query: __inf_target, hosts: ["${mock.host}"] }`;
  const gw = await startGateway(
    `
routes:
  - name: inference
    path: /api/inference/proxy
    preset: inference.sh
    target: ${target}
    key: { env: INF_KEY }
  - name: acme
    path: /api/acme/proxy
    preset: inference.sh
    target: ${target}
    key: { env: INF_KEY }
    body: { apps: ["acme/*"], max_upload: 1kb }
`,
    { INF_KEY: KEY },
  );
  const client = (proxy: string) =>
    new Inference({ proxyUrl: `${gw.url}${proxy}`, baseUrl: mock.url, pollIntervalMs: 5 });
  return {
    mock,
    gw,
    client: client("/api/inference/proxy"),
    acme: client("/api/acme/proxy"),
    async send(method, path, body, headers = {}) {
      const response = await fetch(`${gw.url}/api/inference/proxy`, {
        method,
        headers: {
          "x-inf-target-url": `${mock.url}${path}`,
          "content-type": "application/json",
          ...headers,
        },
        body,
      });
      const answer = await response.json();
      return { status: response.status, message: answer?.error?.message ?? "" };
    },
    async close() {
      await gw.close();
      await mock.close();
    },
  };
}

/** Every spelling Go's encoding/json reads as `field`: cases, the long s, the Kelvin sign. */
function spellings(field: string): string[] {
  const all = new Set([
    field,
    field.toUpperCase(),
    field[0].toUpperCase() + field.slice(1),
    field.replace(/_(.)/g, (_, c: string) => `_${c.toUpperCase()}`),
    field.replaceAll("s", "\u017f"),
    field.replaceAll("k", "\u212a"),
    field.replaceAll("s", "\u017f").replaceAll("k", "\u212a").toUpperCase().replaceAll(
      "S",
      "\u017f",
    ),
  ]);
  return [...all];
}

const apiRequests = (mock: InferenceMock) => mock.requests.map((r) => `${r.method} ${r.path}`);

Deno.test("the SDK's app runs, agent chats and uploads work through the preset", async () => {
  const s = await setup();
  try {
    const { client, mock } = s;
    const image = new Blob(["png bytes"], { type: "image/png" });
    // client.run: a Blob input is uploaded first, then the run is streamed, polled, or left.
    const ran = await client.run({ app: "acme/helper", input: { image } });
    assert.deepEqual((ran as { output: unknown }).output, { text: "done" });
    await client.run({ app: "acme/helper@v1", input: { prompt: "x" } }, { stream: false });
    await client.run({ app: "acme/helper", function: "generate", input: {} }, { wait: false });
    await client.cancel(TASK);
    await client.getTask(TASK);
    const uploaded = await client.uploadFile(new Blob(["abc"], { type: "text/plain" }));
    assert.equal(uploaded.uri, `inf://files/${IDS.file}`);

    // agent().sendMessage: a new chat streamed, its continuation, a new chat polled.
    const agent = client.agent("acme/bot");
    const seen: unknown[] = [];
    await agent.sendMessage("hi", { onMessage: (m: unknown) => seen.push(m) });
    await agent.sendMessage("again", { onMessage: (m: unknown) => seen.push(m) });
    assert.ok(seen.length >= 2, "messages arrived from the chat stream");
    await client.agent("acme/bot").sendMessage("poll", { stream: false });
    await agent.getChat();
    await agent.stopChat();
    await agent.submitToolResult(TOOL, "ok");
    agent.disconnect();

    // The chat provider's calls (@inferencesh/sdk/agent sends them through client.http).
    await client.http.request("post", "/chats", { data: { agent: "acme/bot" } });
    await client.http.request("post", `/chats/${CHAT}/messages`, { data: { message: "hi" } });
    await client.http.request("post", `/chats/${CHAT}/agent`, { data: { agent: "acme/other" } });
    await client.http.request("get", `/chats/${CHAT}/messages`, { params: { limit: 20 } });
    await client.agents.getByName("acme", "bot");
    await client.chats.getStatus(CHAT);
    await client.chats.cancelMessage(MSG);
    await client.agents.submitToolResult(TOOL, "ok");

    const used = new Set(apiRequests(mock));
    for (
      const call of [
        "POST /files",
        "POST /apps/run",
        `GET /tasks/${TASK}/stream`,
        `GET /tasks/${TASK}/status`,
        `GET /tasks/${TASK}`,
        `POST /tasks/${TASK}/cancel`,
        "POST /agents/run",
        `GET /chats/${CHAT}/stream`,
        `GET /chats/${CHAT}`,
        `GET /chats/${CHAT}/status`,
        `POST /chats/${CHAT}/stop`,
        `POST /tools/${TOOL}`,
        "POST /chats",
        `POST /chats/${CHAT}/messages`,
        `POST /chats/${CHAT}/agent`,
        `GET /chats/${CHAT}/messages`,
        "GET /agents/acme/bot",
        `POST /chats/messages/${MSG}/cancel`,
      ]
    ) assert.ok(used.has(call), `${call} reached the API`);
    for (const request of mock.requests) {
      assert.equal(request.headers.authorization, `Bearer ${KEY}`);
      assert.equal(request.headers["x-inf-target-url"], undefined);
    }
    assert.equal(mock.uploads.length, 2, "the file bytes went to storage, beside the gateway");
    assert.deepEqual(
      JSON.parse(mock.requests.find((r) => r.path === "/files")!.body).files[0],
      { uri: "", content_type: "image/png", size: 9 },
    );
    assert.ok(s.gw.logs.every((log) => log.status === 200), JSON.stringify(s.gw.logs.at(-1)));
  } finally {
    await s.close();
  }
});

Deno.test("no literal route beside an id route is forwarded, in either target form", async () => {
  const s = await setup();
  try {
    const siblings: [string, string][] = [
      ["GET", "/tasks/stream"],
      ["GET", "/tasks/featured"],
      ["GET", "/tasks/queue-stats"],
      ["GET", "/tasks/list"],
      ["POST", "/tasks/list"],
      ["POST", "/tasks/run"],
      ["GET", "/tasks/stream/stream"],
      ["GET", "/tasks/featured/status"],
      ["POST", "/tasks/list/cancel"],
      ["GET", "/chats/list"],
      ["POST", "/chats/list"],
      ["GET", "/chats/stream"],
      ["GET", "/chats/messages"],
      ["GET", "/chats/list/stream"],
      ["GET", "/chats/list/messages"],
      ["GET", "/chats/list/status"],
      ["POST", "/chats/list/messages"],
      ["POST", "/chats/list/stop"],
      ["POST", "/chats/list/agent"],
      ["POST", "/chats/messages/list/cancel"],
      ["GET", "/chats/messages/stream"],
      ["POST", "/tools/widget"],
      ["GET", "/files/list"],
      ["POST", "/files/list"],
      ["GET", `/files/${IDS.file}`],
      ["GET", "/agent-runs/list"],
      ["GET", "/agents/internal-tools"],
      ["GET", `/agents/${CHAT}/card`],
      ["GET", `/agents/${CHAT}/versions`],
      ["GET", "/agents/acme/versions"],
      ["GET", "/agents/acme/rules"],
      // ids of another shape: upper case, short, long, not base32
      ["GET", `/tasks/${TASK.toUpperCase()}`],
      ["GET", `/tasks/${TASK.slice(1)}`],
      ["GET", `/tasks/${TASK}0/stream`],
      ["GET", "/tasks/abcdefghijklmnopqrstuvwxyz"],
    ];
    for (const [method, path] of siblings) {
      const { status } = await s.send(method, path, method === "POST" ? "{}" : undefined);
      assert.equal(status, 403, `${method} ${path}`);
      // The EventSource form names the target in the query instead.
      const query = await fetch(
        `${s.gw.url}/api/inference/proxy?__inf_target=${encodeURIComponent(s.mock.url + path)}`,
      );
      await query.body?.cancel();
      assert.equal(query.status, 403, `?__inf_target ${path}`);
    }
    assert.deepEqual(apiRequests(s.mock), []);
  } finally {
    await s.close();
  }
});

Deno.test("no visitor-set field reaches the API, in any case or folding", async () => {
  const s = await setup();
  try {
    const refused: [string, string[], Record<string, unknown>][] = [
      ["/apps/run", [
        "webhook",
        "session",
        "session_timeout",
        "workers",
        "infra",
        "setup",
        "metadata",
        "run_at",
      ], { app: "acme/helper", input: {} }],
      ["/agents/run", ["agent_config", "agent_name", "agent_id", "tool_call_id"], {
        agent: "acme/bot",
        input: { text: "hi" },
      }],
      ["/chats", ["agent_config", "chat_id"], { agent: "acme/bot" }],
      [`/chats/${CHAT}/messages`, ["agent", "input"], { message: "hi" }],
      [`/chats/${CHAT}/agent`, ["agent_config"], { agent: "acme/bot" }],
      [`/tools/${TOOL}`, ["status"], { result: "ok" }],
      ["/files", ["category"], { files: [{ filename: "a", size: 1 }] }],
      [`/tasks/${TASK}/cancel`, ["reason"], {}],
    ];
    let count = 0;
    for (const [path, fields, base] of refused) {
      for (const field of fields) {
        for (const key of spellings(field)) {
          const { status, message } = await s.send(
            "POST",
            path,
            JSON.stringify({ ...base, [key]: "x" }),
          );
          assert.equal(status, 403, `${path} ${key}`);
          assert.equal(message, `"${key}" cannot be set through this route`);
          count++;
        }
      }
    }
    assert.ok(count > 60, `${count} spellings tried`);
    // The same body sent as another media type is refused too: the API reads it as JSON.
    const text = await s.send(
      "POST",
      "/apps/run",
      JSON.stringify({ app: "acme/helper", input: {}, webhook: "https://evil.example" }),
      { "content-type": "text/plain" },
    );
    assert.equal(text.status, 400);
    assert.deepEqual(apiRequests(s.mock), []);
  } finally {
    await s.close();
  }
});

Deno.test("a body whose keys repeat or fold to one field is refused with 400", async () => {
  const s = await setup();
  try {
    const bodies: [string, string][] = [
      ["/apps/run", '{"app":"acme/helper","input":{},"app":"eve/other"}'],
      ["/apps/run", '{"app":"acme/helper","input":{},"App":"eve/other"}'],
      ["/apps/run", '{"app":"acme/helper","input":{},"APP":"eve/other"}'],
      ["/apps/run", '{"app":"acme/helper","input":{},"\\u0061pp":"eve/other"}'],
      ["/apps/run", '{"app":"acme/helper","input":{},"input":{"prompt":"x"}}'],
      ["/apps/run", '{"app":"acme/helper","input":{"a":1,"a":2}}'],
      ["/agents/run", '{"agent":"acme/bot","input":{},"chat_id":null,"chat_Id":"x"}'],
      ["/chats", '{"agent":"acme/bot","AGENT":"eve/x"}'],
      ["/files", '{"files":[{"filename":"a","size":1}],"FILES":[]}'],
      ["/files", '{"files":[{"filename":"a","size":1,"size":1000000000000}]}'],
      ["/files", '{"files":[{"filename":"a","size":1,"\\u017fize":1000000000000}]}'],
      [`/tools/${TOOL}`, '{"result":"ok","re\\u017fult":"no"}'],
    ];
    for (const [path, body] of bodies) {
      const { status, message } = await s.send("POST", path, body);
      assert.equal(status, 400, `${path} ${body}`);
      assert.match(message, /repeats the key|name the same field/);
    }
    assert.deepEqual(apiRequests(s.mock), []);
  } finally {
    await s.close();
  }
});

Deno.test("approvals and account calls are refused, through the SDK and on the wire", async () => {
  const s = await setup();
  try {
    const { client } = s;
    const sdkCalls: [string, () => Promise<unknown>][] = [
      ["approve", () => client.http.request("post", `/tools/${TOOL}/invoke`)],
      ["reject", () => client.http.request("post", `/tools/${TOOL}/reject`, { data: {} })],
      [
        "always allow",
        () =>
          client.http.request("post", `/chats/${CHAT}/tools/${TOOL}/always-allow`, {
            data: { tool_name: "x" },
          }),
      ],
      ["resolve", () => client.agents.resolveInterrupt(INTERRUPT, "allow")],
      ["interrupts", () => client.agents.listRunInterrupts(RUN)],
      ["api keys", () => client.apiKeys.list()],
      ["secrets", () => client.secrets.list()],
      ["tasks", () => client.tasks.list()],
      ["chats", () => client.chats.list()],
      ["files", () => client.files.list()],
      ["a file", () => client.files.get(IDS.file)],
      ["an agent by id", () => client.agents.get(CHAT)],
      ["chat update", () => client.chats.update(CHAT, { name: "x" })],
      ["chat trace", () => client.chats.getTrace(CHAT)],
    ];
    for (const [name, call] of sdkCalls) {
      await assert.rejects(call, (e: { statusCode?: number }) => e.statusCode === 403, name);
    }
    const wire: [string, string, unknown?][] = [
      ["POST", `/tools/${TOOL}/invoke`],
      ["POST", `/tools/${TOOL}/reject`, { reason: "no" }],
      ["GET", `/chats/${CHAT}/tools/${TOOL}/always-allow/options`],
      ["POST", `/chats/${CHAT}/tools/${TOOL}/explain`, {}],
      ["POST", `/interrupts/${INTERRUPT}/resolve`, { resolution: "allow" }],
      ["GET", `/agent-runs/${RUN}/interrupts`],
      ["POST", `/chats/${CHAT}/settings`, { allow_all_tools: true }],
      ["GET", "/secrets"],
      ["GET", "/secrets/reveal/OPENAI_API_KEY"],
      ["POST", "/secrets", { key: "X", value: "y" }],
      ["GET", "/apikeys"],
      ["POST", "/apikeys", { name: "x" }],
      ["DELETE", "/apikeys/k1"],
      ["GET", "/billing"],
      ["GET", "/me"],
      ["POST", "/me/delete"],
      ["GET", "/teams"],
      ["GET", "/projects"],
      ["GET", "/integrations"],
      ["GET", "/files"],
      ["POST", "/apps", { name: "x" }],
      ["DELETE", "/apps/a1"],
      ["POST", "/agents", { name: "x" }],
      ["POST", `/agents/${CHAT}/duplicate`],
      ["GET", "/tasks"],
      ["DELETE", `/tasks/${TASK}`],
      ["PUT", `/tasks/${TASK}`, {}],
      ["POST", `/tasks/${TASK}/visibility`, { visibility: "public" }],
      ["POST", `/chats/${CHAT}`, { name: "x" }],
      ["DELETE", `/chats/${CHAT}`],
      ["POST", "/flowruns", {}],
      ["GET", "/apps/run"],
      ["GET", "/admin/users"],
    ];
    for (const [method, path, body] of wire) {
      const { status } = await s.send(
        method,
        path,
        body === undefined ? undefined : JSON.stringify(body),
      );
      assert.equal(status, 403, `${method} ${path}`);
    }
    assert.deepEqual(apiRequests(s.mock), []);
  } finally {
    await s.close();
  }
});

Deno.test("body.apps narrows the apps and agents a route's visitors may run", async () => {
  const s = await setup();
  try {
    const { acme, mock } = s;
    await acme.run({ app: "acme/helper", input: { prompt: "x" } }, { wait: false });
    await acme.agent("acme/bot").sendMessage("hi", { stream: false });
    await acme.agents.getByName("acme", "bot");
    const allowed = mock.requests.length;
    assert.ok(allowed >= 3);

    const forbidden = (e: { statusCode?: number }) => e.statusCode === 403;
    await assert.rejects(() => acme.run({ app: "eve/helper", input: {} }), forbidden);
    await assert.rejects(() => acme.run({ app_id: TASK, input: {} }), forbidden);
    await assert.rejects(() => acme.agent("eve/bot").sendMessage("hi"), forbidden);
    await assert.rejects(
      () => acme.agent({ core_app: { ref: "acme/model" } }).sendMessage("hi"),
      forbidden,
      "an ad-hoc agent is never taken",
    );
    await assert.rejects(() => acme.agents.getByName("eve", "bot"), forbidden);
    await assert.rejects(
      () => acme.http.request("post", "/chats", { data: { agent: "eve/bot" } }),
      forbidden,
    );
    await assert.rejects(
      () => acme.http.request("post", `/chats/${CHAT}/agent`, { data: { agent: "eve/bot" } }),
      forbidden,
    );
    // An upload over the route's max_upload (1kb) is refused before the API sees it.
    await assert.rejects(
      () => acme.uploadFile(new Blob([new Uint8Array(1025)])),
      (e: { statusCode?: number }) => e.statusCode === 413,
    );
    await acme.uploadFile(new Blob([new Uint8Array(1024)]));
    assert.equal(mock.requests.length, allowed + 1, "only the upload within the cap went on");
  } finally {
    await s.close();
  }
});

Deno.test("an upload declares one file, without a path or uri", async () => {
  const s = await setup();
  try {
    const file = { uri: "", filename: "a.png", content_type: "image/png", size: 10 };
    const refused: [unknown, number][] = [
      [{ files: [file, file] }, 403],
      [{ files: [] }, 403],
      [{ files: [{ ...file, path: "/site/logo.png" }] }, 403],
      [{ files: [{ ...file, uri: `inf://files/${IDS.file}` }] }, 403],
      [{ files: [{ ...file, size: 100 * 1024 * 1024 + 1 }] }, 413],
      [{ files: [{ ...file, size: "10" }] }, 400],
      [{ files: [{ filename: "a.png" }] }, 400],
    ];
    for (const [body, status] of refused) {
      assert.equal((await s.send("POST", "/files", JSON.stringify(body))).status, status);
    }
    assert.deepEqual(apiRequests(s.mock), []);
    assert.equal((await s.send("POST", "/files", JSON.stringify({ files: [file] }))).status, 200);
    assert.deepEqual(apiRequests(s.mock), ["POST /files"]);
  } finally {
    await s.close();
  }
});

Deno.test("a form widget's tool result goes through; a call that needs a body and has none is 400", async () => {
  const s = await setup();
  try {
    const { client, mock } = s;
    // What `submitToolResult(client, id, { action, form_data })` of @inferencesh/sdk/agent sends
    // for a form widget: its data as the body, through the client's own http.
    const form = {
      action: { type: "form_submit", payload: { city: "Oslo" } },
      form_data: { city: "Oslo" },
    };
    await client.http.request("post", `/tools/${TOOL}`, { data: form });
    await client.http.request("post", `/tools/${TOOL}`, { data: { action: { type: "approve" } } });
    assert.deepEqual(
      mock.requests.map((r) => [r.path, JSON.parse(r.body)]),
      [[`/tools/${TOOL}`, form], [`/tools/${TOOL}`, { action: { type: "approve" } }]],
    );

    // Every endpoint whose body the preset reads refuses a request without one, as the SDK's
    // own proxy does; those that take none go on without.
    const needs = [
      "/apps/run",
      "/agents/run",
      "/chats",
      `/chats/${CHAT}/messages`,
      `/chats/${CHAT}/agent`,
      `/tools/${TOOL}`,
      "/files",
    ];
    for (const path of needs) {
      for (const headers of [{}, { "content-length": "0" }] as Record<string, string>[]) {
        const response = await fetch(`${s.gw.url}/api/inference/proxy`, {
          method: "POST",
          headers: { "x-inf-target-url": `${mock.url}${path}`, ...headers },
        });
        assert.equal(response.status, 400, `${path} ${JSON.stringify(headers)}`);
        assert.equal((await response.json()).error.type, "invalid_request");
      }
    }
    assert.equal(mock.requests.length, 2, "no body-less call went on");
    assert.ok(s.gw.logs.slice(2).every((log) => log.error === "body_missing"));
    for (
      const path of [
        `/tasks/${TASK}/cancel`,
        `/chats/${CHAT}/stop`,
        `/chats/messages/${MSG}/cancel`,
      ]
    ) {
      const response = await fetch(`${s.gw.url}/api/inference/proxy`, {
        method: "POST",
        headers: { "x-inf-target-url": `${mock.url}${path}` },
      });
      assert.equal(response.status, 200, path);
      await response.body?.cancel();
    }
    assert.equal(mock.requests.length, 5);
  } finally {
    await s.close();
  }
});
