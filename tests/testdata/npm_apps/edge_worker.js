// Runs the edge bundle with only web-standard globals: every runtime-specific global is
// removed before the bundle loads, so the library sees what Cloudflare Workers or Vercel
// Edge offer. Requests are served as Workers serve them: app.fetch(request, bindings).
for (
  const name of ["Deno", "process", "Buffer", "global", "setImmediate", "clearImmediate", "require"]
) delete globalThis[name];

self.onmessage = async ({ data }) => {
  try {
    const { makeApp } = await import(data.bundle);
    const records = [];
    const app = makeApp(data.config, (record) => records.push(record));
    const results = [];
    for (const { url, init } of data.requests) {
      const response = await app.fetch(new Request(url, init), data.bindings);
      results.push({ status: response.status, text: await response.text() });
    }
    self.postMessage({
      globals: { Deno: typeof Deno, process: typeof process, Buffer: typeof Buffer },
      results,
      records,
    });
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
