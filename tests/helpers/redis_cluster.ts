/**
 * A throwaway Redis Cluster on 127.0.0.1: three `redis-server --cluster-enabled yes`
 * processes in a temporary directory, joined by `redis-cli --cluster create` (no replicas,
 * each a master of a third of the slots), nothing saved to disk but each node's cluster
 * config, so a node stopped and started again rejoins with its slots.
 *
 * @module
 */

/** A running Redis Cluster. */
export interface RedisCluster {
  /** `redis://127.0.0.1:PORT` of each node. */
  urls: string[];
  /** Each node's port. */
  ports: number[];
  /** Stops node `i` at once (SIGKILL), as a crash would. */
  stopNode(i: number): Promise<void>;
  /** Starts node `i` again on its port and waits until the cluster is whole. */
  startNode(i: number): Promise<void>;
  /** Runs `redis-cli` against node `i` (`0` by default) and returns what it printed. */
  cli(args: string[], i?: number): Promise<string>;
  /** Stops every node and removes the directory. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(command: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${text}${new TextDecoder().decode(stderr)}`,
    );
  }
  return text;
}

/** Polls `check` every 50 ms until it holds; throws after `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} within ${ms} ms`);
    await sleep(50);
  }
}

/**
 * Starts a 3-node cluster (Debian's `redis-server`, whose package brings `redis-cli`) and
 * waits until every node reports `cluster_state:ok`.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * try {
 *   const store = new RedisStore({ cluster: cluster.urls });
 *   // ...
 * } finally {
 *   await cluster.stop();
 * }
 * ```
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-redis-cluster-" });
  const ports = [freePort(), freePort(), freePort()];
  const busPorts = ports.map(() => freePort());
  const children: (Deno.ChildProcess | undefined)[] = [];

  const cli = (args: string[], i = 0) =>
    run("redis-cli", ["-h", "127.0.0.1", "-p", String(ports[i]), ...args]);

  const clusterOk = () =>
    until("every node reports cluster_state:ok", 20_000, async () => {
      for (let i = 0; i < ports.length; i++) {
        const info = await cli(["cluster", "info"], i);
        if (!info.includes("cluster_state:ok") || !info.includes("cluster_known_nodes:3")) {
          return false;
        }
      }
      return true;
    });

  const startNode = async (i: number) => {
    const nodeDir = `${dir}/${ports[i]}`;
    await Deno.mkdir(nodeDir, { recursive: true });
    children[i] = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(ports[i]),
        "--cluster-port",
        String(busPorts[i]),
        "--bind",
        "127.0.0.1",
        "--dir",
        nodeDir,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "2000",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
    await until(`node ${ports[i]} answers`, 10_000, async () => {
      return (await cli(["ping"], i)).startsWith("PONG");
    });
  };

  const stopNode = async (i: number) => {
    const child = children[i];
    children[i] = undefined;
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  };

  const stop = async () => {
    await Promise.all(ports.map((_, i) => stopNode(i)));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  try {
    await Promise.all(ports.map((_, i) => startNode(i)));
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    await clusterOk();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    ports,
    stopNode,
    async startNode(i) {
      await startNode(i);
      await clusterOk();
    },
    cli,
    stop,
  };
}
