/**
 * Body rules on the endpoints they do not concern: a clamp reaches only generating
 * endpoints (other bodies, JSON or not, go byte for byte as sent), and `models` is enforced
 * on multipart uploads by their `model` field, with every form the gateway cannot read, or
 * reads two ways, refused before the upstream sees it.
 */
import assert from "node:assert/strict";
import { startGateway } from "./helpers/gateway.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";

const KEY = "sk-server-SECRET";

function routes(mock: string): string {
  return `
routes:
  - name: clamp
    path: /clamp
    preset: openai
    upstream: ${mock}
    key: { env: KW_KEY }
    body: { max_tokens: 50 }
  - name: models
    path: /models
    preset: openai
    upstream: ${mock}
    key: { env: KW_KEY }
    body: { models: [gpt-4o-transcribe] }
  - name: plain
    path: /plain
    upstream: ${mock}
    key: { env: KW_KEY }
    allow: ["POST /v1/**"]
    usage: openai
    body: { max_tokens: 50 }
  - name: named
    path: /named
    upstream: ${mock}
    key: { env: KW_KEY }
    allow: ["POST /v1/**"]
    usage: openai
    body: { max_tokens: 50, generate: ["POST /v1/chat/completions"] }
`;
}

const BOUNDARY = "----kwBoundary7MA4YWxkTrZu0gW";

/** A multipart body with `fields` (name, value, optional filename) in order. */
function form(fields: [string, string, string?][], boundary = BOUNDARY): string {
  const parts = fields.map(([name, value, filename]) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"` +
    (filename ? `; filename="${filename}"\r\nContent-Type: audio/wav` : "") +
    `\r\n\r\n${value}\r\n`
  );
  return parts.join("") + `--${boundary}--\r\n`;
}

const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

Deno.test("a clamp touches only generating endpoints; other bodies go as sent", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(routes(mock.url), { KW_KEY: KEY });
  try {
    const send = async (path: string, body: string, type = "application/json") => {
      const response = await fetch(`${gw.url}${path}`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      return { status: response.status, text: await response.text() };
    };
    const embeddings = '{"model":"text-embedding-3-small","input":"hi"}';
    assert.equal((await send("/clamp/v1/embeddings", embeddings)).status, 200);
    assert.equal(mock.requests.at(-1)!.body, embeddings, "embeddings go byte for byte");
    const upload = form([["file", "RIFF", "a.wav"], ["model", "whisper-1"]]);
    assert.equal((await send("/clamp/v1/audio/transcriptions", upload, MULTIPART)).status, 200);
    assert.equal(mock.requests.at(-1)!.body, upload, "a form on a clamp-only route goes as sent");

    assert.equal((await send("/clamp/v1/chat/completions", '{"model":"m"}')).status, 200);
    assert.deepEqual(JSON.parse(mock.requests.at(-1)!.body), {
      max_completion_tokens: 50,
      model: "m",
    });
    const seen = mock.requests.length;
    // A generating endpoint reads JSON only: another type could carry an unclamped body.
    const plain = await send("/clamp/v1/chat/completions", '{"model":"m"}', "text/plain");
    assert.equal(plain.status, 400);
    assert.match(plain.text, /takes JSON bodies only/);
    assert.equal(mock.requests.length, seen);

    // Without a preset every endpoint is clamped, as before; `generate` names the endpoints.
    assert.equal((await send("/plain/v1/embeddings", embeddings)).status, 200);
    assert.equal(JSON.parse(mock.requests.at(-1)!.body).max_completion_tokens, 50);
    assert.equal((await send("/named/v1/embeddings", embeddings)).status, 200);
    assert.equal(mock.requests.at(-1)!.body, embeddings);
    assert.equal((await send("/named/v1/chat/completions", "{}")).status, 200);
    assert.equal(mock.requests.at(-1)!.body, '{"max_completion_tokens":50}');
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("models on a multipart upload: its one model field is checked; any other form is refused", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway(routes(mock.url), { KW_KEY: KEY });
  try {
    const upload = async (body: string, type = MULTIPART) => {
      const response = await fetch(`${gw.url}/models/v1/audio/transcriptions`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      return { status: response.status, text: await response.text() };
    };
    const allowed = form([["file", "RIFF", "a.wav"], ["model", "gpt-4o-transcribe"]]);
    assert.equal((await upload(allowed)).status, 200);
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0].body, allowed, "the form goes byte for byte");

    const refused: [string, string | undefined, number, RegExp][] = [
      [form([["file", "RIFF", "a.wav"], ["model", "whisper-1"]]), undefined, 403, /not allowed/],
      [form([["file", "RIFF", "a.wav"]]), undefined, 400, /names no model/],
      // Two readers of one form may each take a different one of two model fields.
      [
        form([["model", "gpt-4o-transcribe"], ["file", "RIFF", "a.wav"], ["model", "whisper-1"]]),
        undefined,
        400,
        /more than once/,
      ],
      // A model sent as a file is no model field.
      [form([["model", "gpt-4o-transcribe", "m.txt"]]), undefined, 400, /names no model/],
      // A form whose boundary the body never uses cannot be read.
      [form([["model", "gpt-4o-transcribe"]], "other"), undefined, 400, /could not be read/],
      ['{"model":"whisper-1"}', "text/plain", 400, /JSON or multipart form bodies only/],
      ["model=gpt-4o-transcribe", "application/x-www-form-urlencoded", 400, /JSON or multipart/],
    ];
    for (const [body, type, status, message] of refused) {
      const answer = await upload(body, type);
      assert.equal(answer.status, status, body);
      assert.match(answer.text, message);
    }
    assert.equal(mock.requests.length, 1, "no refused form reached the upstream");
  } finally {
    await gw.close();
    await mock.close();
  }
});
