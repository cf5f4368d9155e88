// Visitors through the npm package, in process: a challenge, solved with the same argon2id
// WebAssembly (its npm package, as a program without a browser would), the token, a call with
// it, the same call from another network, and the browser module. Prints one JSON line.
// Usage: node visitors_app.mjs (MOCK_UPSTREAM and KW_NODE_KEY in the environment)
import { createGateway } from "@keyward/keyward";
import initialize from "@phi-ag/argon2/node";

const gateway = await createGateway(`
server:
  visitors:
    secret: a-visitor-secret-of-32-bytes-or-more
    proof_of_work: { seconds: 0.01 }
routes:
  - name: openai
    path: /api/openai
    upstream: \${MOCK_UPSTREAM}
    key: { env: KW_NODE_KEY }
    allow: ["POST /v1/chat/completions"]
    auth: visitor
`, undefined, { log: () => {} });
const home = { remoteAddr: { hostname: "203.0.113.9" } };
const away = { remoteAddr: { hostname: "198.51.100.9" } };
const url = (path) => `http://gateway.example${path}`;

const issued = await (await gateway.fetch(new Request(url("/keyward/visitor/challenge")), home))
  .json();
const argon2 = await initialize();
const salt = new TextEncoder().encode(issued.challenge);
const below = Math.floor(2 ** 48 / issued.difficulty);
let nonce = 0;
for (;; nonce++) {
  const { hash } = argon2.hash(String(nonce), {
    salt,
    hashLength: 32,
    timeCost: issued.params.t,
    memoryCost: issued.params.m,
    parallelism: 1,
    type: 2,
    version: 0x13,
  });
  const lead = hash[0] * 2 ** 40 + hash[1] * 2 ** 32 + hash[2] * 2 ** 24 + hash[3] * 2 ** 16 +
    hash[4] * 2 ** 8 + hash[5];
  if (lead < below) break;
}
const started = process.cpuUsage();
const earned = await gateway.fetch(
  new Request(url("/keyward/visitor/token"), {
    method: "POST",
    body: JSON.stringify({ challenge: issued.challenge, nonce: String(nonce) }),
  }),
  home,
);
const cpu = process.cpuUsage(started);
const { token } = await earned.json();
const call = (info) =>
  gateway.fetch(
    new Request(url("/api/openai/v1/chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] }),
    }),
    info,
  );
const chat = await call(home);
const elsewhere = await call(away);
const script = await gateway.fetch(new Request(url("/keyward/visitor.js")), home);
const text = await script.text();
console.log(JSON.stringify({
  earned: earned.status,
  tokenCpuMs: (cpu.user + cpu.system) / 1000,
  chat: chat.status,
  answer: (await chat.json()).choices?.[0]?.message?.content,
  elsewhere: elsewhere.status,
  script: script.status,
  module: text.includes("export function visitorToken"),
}));
await gateway.close();
