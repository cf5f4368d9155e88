/**
 * nginx for the benchmark, in two instances of one worker each: the mock upstream (a canned
 * JSON chat completion and a 20-event SSE stream) and the reference proxy (`proxy_pass` with
 * an injected key).
 *
 * @module
 */

/** The canned JSON chat completion the mock answers with. */
export const CHAT_JSON: string = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello!" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
});

/** The canned SSE stream: 20 chunk events, then `[DONE]`. */
export const CHAT_SSE: string = Array.from({ length: 20 }, (_, i) =>
  `data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { content: `w${i} ` } }],
    })
  }\n\n`).join("") + "data: [DONE]\n\n";

/** A running nginx. */
export interface Nginx {
  /** Master process id. */
  pid: number;
  /** Process ids of the workers. */
  workers(): Promise<number[]>;
  /** Stops nginx. */
  stop(): Promise<void>;
}

function nginxString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'").replaceAll("\n", "\\n")}'`;
}

function conf(dir: string, servers: string): string {
  return `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers}
}
`;
}

/** The mock upstream: canned answers at `/v1/chat/completions` and `/v1/stream`. */
export function mockServer(port: number): string {
  return `
  server {
    listen 127.0.0.1:${port};
    location /v1/chat/completions {
      default_type application/json;
      return 200 ${nginxString(CHAT_JSON)};
    }
    location /v1/stream {
      default_type text/event-stream;
      return 200 ${nginxString(CHAT_SSE)};
    }
  }`;
}

/**
 * The reference proxy: `/openai/` to the mock (and `/lab/` to the lab upstream, when given) with
 * the key injected, unbuffered.
 */
export function proxyServer(port: number, mockPort: number, labPort?: number): string {
  const location = (prefix: string, upstream: string) => `
    location ${prefix} {
      proxy_pass http://${upstream}/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer sk-bench-key";
      proxy_set_header Cookie "";
      proxy_buffering off;
    }`;
  return `
  upstream mock { server 127.0.0.1:${mockPort}; keepalive 64; }
  ${labPort ? `upstream lab { server 127.0.0.1:${labPort}; keepalive 64; }` : ""}
  server {
    listen 127.0.0.1:${port};${location("/openai/", "mock")}${
    labPort ? location("/lab/", "lab") : ""
  }
  }`;
}

/** Starts nginx in the foreground in `dir` with the given server blocks. */
export async function startNginx(dir: string, servers: string): Promise<Nginx> {
  await Deno.mkdir(dir, { recursive: true });
  const text = conf(dir, servers);
  await Deno.writeTextFile(`${dir}/nginx.conf`, text);
  const child = new Deno.Command("nginx", {
    args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  return {
    pid: child.pid,
    async workers() {
      const out = await new Deno.Command("pgrep", { args: ["-P", String(child.pid)] }).output();
      return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number);
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
