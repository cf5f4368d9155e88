/**
 * The Redis store, on one server or a Redis Cluster: one round trip per operation, each a Lua
 * script over one key so the check and the change are atomic across every gateway instance.
 * Window counters carry the window in their key and expire with it. Key names are the same on
 * a server and on a cluster, each with a hash tag that keeps one route and client (or one
 * route) on one slot: see redis_keys.ts.
 *
 * The client is tuned to find out fast that Redis is gone, and to be back soon after it
 * returns: connections and commands time out after a second, a lost connection is tried again
 * at once and then at least every 200 ms, and a command cut off by a lost connection fails
 * rather than being sent again after the reconnection (its request was already refused). The store reports losing and regaining
 * its connection to {@linkcode FailFastStore} (open_store.ts wraps it in one), which refuses
 * operations at once while Redis is known to be down.
 *
 * @module
 */
import type { Cluster, Redis, RedisOptions } from "ioredis";
import {
  bucketOf,
  bucketStarts,
  type LimitStore,
  MEMBERS_CAP,
  membersLimit,
  newSlotId,
  type Reachable,
  type Reservation,
  type RouteCounts,
  type StoreWatcher,
  type WindowCount,
  windowOf,
} from "./store.ts";
import { ACQUIRE, ADD, ADD_ROUTE, NOTE, RESERVE, SETTLE } from "./redis_scripts.ts";

/**
 * The scripts, each on one key, as commands of the client: ioredis sends a script's text once
 * and its SHA1 after that (EVALSHA, the text again only when a server does not know it).
 */
const SCRIPTS = {
  kwAdd: ADD,
  kwReserve: RESERVE,
  kwSettle: SETTLE,
  kwAcquire: ACQUIRE,
  kwAddRoute: ADD_ROUTE,
  kwNote: NOTE,
};

type Scripted = {
  [K in keyof typeof SCRIPTS]: (key: string, ...args: (string | number)[]) => Promise<unknown>;
};

/** A client with the scripts defined on it. */
type Client = (Redis | Cluster) & Scripted;
import { redisKey } from "./redis_keys.ts";

/** Where the Redis store connects: one server's URL, or the startup nodes of a cluster. */
export type RedisTarget = string | { cluster: readonly string[] };

/** Replies that mean Redis cannot serve now, though it answered. */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|READONLY)\b/;

/** Options of every connection: what makes a lost Redis show at once (see the module doc). */
const CONNECTION: RedisOptions = {
  connectTimeout: 1_000,
  commandTimeout: 1_000,
  // The offline queue holds commands only until the connection is made (or, with the store
  // down, the probe's PING): the fail-fast wrapper sends nothing else while Redis is away.
  maxRetriesPerRequest: 1,
  // At once after a drop (a server or proxy closing an idle connection costs next to
  // nothing), then every 50 ms more, up to every 200 ms while Redis stays away.
  retryStrategy: (times: number) => Math.min((times - 1) * 50, 200),
  autoResendUnfulfilledCommands: false,
};

/** Counters in Redis, shared by every instance that points at it. */
export class RedisStore implements LimitStore, Reachable {
  readonly #target: RedisTarget;
  #client?: Promise<Client>;
  /** The client whose connection is watched; none once closed. */
  #live?: Redis | Cluster;
  #watcher?: StoreWatcher;

  /**
   * A store on `target`: a `redis://` or `rediss://` URL, or `{ cluster: [url, ...] }`.
   * Nothing connects until the first operation.
   *
   * @example
   * ```ts
   * import { RedisStore } from "./redis.ts";
   *
   * const one = new RedisStore("redis://127.0.0.1:6379");
   * const cluster = new RedisStore({ cluster: ["redis://127.0.0.1:7000"] });
   * await one.close();
   * await cluster.close();
   * ```
   */
  constructor(target: RedisTarget) {
    this.#target = target;
  }

  /** The client, loaded on first use: gateways without Redis never load its module. */
  #redis(): Promise<Client> {
    return this.#client ??= import("ioredis").then(({ Redis, Cluster }) => {
      const target = this.#target;
      const client = typeof target === "string"
        ? new Redis(target, CONNECTION)
        : new Cluster([...target.cluster], {
          redisOptions: { ...CONNECTION, ...credentials(target.cluster[0]) },
          // Nodes reconnect as a single server does; the cluster as a whole likewise.
          clusterNodeRetryStrategy: CONNECTION.retryStrategy,
          clusterRetryStrategy: () => 200,
          slotsRefreshTimeout: 1_000,
        });
      for (const [name, lua] of Object.entries(SCRIPTS)) {
        client.defineCommand(name, { numberOfKeys: 1, lua });
      }
      // Connection errors surface on the commands that need the connection.
      client.on("error", () => {});
      this.#live = client;
      this.#watchConnection(client);
      return client as Client;
    });
  }

  /** Tells the watcher when `client` loses or regains its connection (a cluster: any node's). */
  #watchConnection(client: Redis | Cluster) {
    const lost = () => {
      if (this.#live === client) this.#watcher?.lost(new Error("The connection to Redis was lost"));
    };
    const back = () => {
      if (this.#live === client) this.#watcher?.back();
    };
    client.on("close", lost);
    client.on("ready", back);
    if (typeof this.#target === "string") return;
    const cluster = client as Cluster;
    cluster.on("+node", (node: Redis) => {
      node.on("close", () => {
        // A node the cluster dropped on purpose (no longer holding slots) is not a loss.
        if (cluster.nodes().includes(node)) lost();
      });
      node.on("ready", back);
    });
  }

  watch(watcher: StoreWatcher): void {
    this.#watcher = watcher;
  }

  unreachable(error: unknown): boolean {
    if (!(error instanceof Error)) return true;
    if (error.name !== "ReplyError") return true;
    return UNAVAILABLE_REPLY.test(error.message);
  }

  /** Answers when Redis does: every master that holds slots, on a cluster. */
  async ping(): Promise<void> {
    const client = await this.#redis();
    if (typeof this.#target === "string") {
      await client.ping();
      return;
    }
    const cluster = client as Cluster;
    const masters = new Set<string>();
    for (const owners of cluster.slots) if (owners?.[0]) masters.add(owners[0]);
    if (masters.size === 0) {
      await cluster.ping(); // not ready yet: answered once it is
      return;
    }
    const nodes = new Map(
      cluster.nodes("master").map((node) => [`${node.options.host}:${node.options.port}`, node]),
    );
    const missing = [...masters].filter((key) => !nodes.has(key));
    if (missing.length) {
      cluster.refreshSlotsCache();
      throw new Error(`Redis Cluster node ${missing[0]} is not connected`);
    }
    await Promise.all([...masters].map((key) => nodes.get(key)!.ping()));
  }

  async add(key: string, amount: number, windowMs: number): Promise<WindowCount> {
    const { start, resetMs } = windowOf(windowMs);
    const id = redisKey(key, `@${start}`);
    const redis = await this.#redis();
    const count = amount === 0
      ? Number(await redis.get(id) ?? 0)
      : Number(await redis.kwAdd(id, amount, windowMs + 1_000));
    return { count, resetMs };
  }

  read(key: string, windowMs: number): Promise<WindowCount> {
    return this.add(key, 0, windowMs);
  }

  async acquire(key: string, max: number, ttlMs: number): Promise<string | undefined> {
    const slot = newSlotId();
    const redis = await this.#redis();
    const taken = await redis.kwAcquire(redisKey(key, ":slots"), max, ttlMs, slot);
    return Number(taken) === 1 ? slot : undefined;
  }

  async release(key: string, slot: string): Promise<void> {
    await (await this.#redis()).zrem(redisKey(key, ":slots"), slot);
  }

  async addRouteCounts(
    route: string,
    counts: RouteCounts,
    bucketMs: number,
    keepMs: number,
    at = Date.now(),
  ): Promise<void> {
    const { start, keepFor: keep } = bucketOf(at, bucketMs, keepMs);
    if (keep <= 0) return;
    const redis = await this.#redis();
    const { requests, errors, tokens, spend } = counts;
    await redis.kwAddRoute(
      routeKey(route, bucketMs, start),
      requests,
      errors,
      tokens,
      keep,
      spend,
    );
  }

  async readRouteCounts(
    route: string,
    bucketMs: number,
    buckets: number,
    now = Date.now(),
  ): Promise<RouteCounts[]> {
    const redis = await this.#redis();
    // One route's buckets share its hash tag, so the pipeline is one node's on a cluster.
    const pipeline = redis.pipeline();
    const starts = bucketStarts(bucketMs, buckets, now);
    for (const start of starts) {
      pipeline.hmget(routeKey(route, bucketMs, start), "requests", "errors", "tokens", "spend");
    }
    const results = (await pipeline.exec()) ?? [];
    return starts.map((_, i) => {
      const [error, values] = results[i] ?? [null, []];
      if (error) throw error;
      const [requests, errors, tokens, spend] = (values as (string | null)[]).map((v) =>
        Number(v ?? 0)
      );
      return { requests, errors, tokens, spend };
    });
  }

  async reserve(
    key: string,
    amount: number,
    limit: number,
    windowMs: number,
  ): Promise<Reservation> {
    const { start, resetMs } = windowOf(windowMs);
    const redis = await this.#redis();
    const [ok, count] = await redis.kwReserve(
      redisKey(key, `@${start}`),
      amount,
      limit,
      windowMs + 1_000,
    ) as [number, number];
    return { ok: ok === 1, count: Number(count), resetMs, window: start };
  }

  async settle(key: string, delta: number, _windowMs: number, window: number): Promise<void> {
    if (delta === 0) return;
    await (await this.#redis()).kwSettle(redisKey(key, `@${window}`), delta);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const redis = await this.#redis();
    const set = await redis.set(redisKey(key, ":claim"), "1", "PX", Math.max(1, ttlMs), "NX");
    return set === "OK";
  }

  async note(set: string, member: string, windowMs: number): Promise<void> {
    const { start, resetMs } = windowOf(windowMs);
    const redis = await this.#redis();
    await redis.kwNote(membersKey(set, start), member, MEMBERS_CAP, resetMs + 1_000);
  }

  async members(set: string, windowMs: number, limit?: number): Promise<string[]> {
    const most = membersLimit(limit);
    if (most === 0) return [];
    const { start } = windowOf(windowMs);
    // A set holds at most MEMBERS_CAP members, so reading it whole is bounded.
    const members = await (await this.#redis()).smembers(membersKey(set, start));
    return members.length > most ? members.slice(0, most) : members;
  }

  async close(): Promise<void> {
    if (!this.#client) return;
    const client = this.#client;
    this.#client = undefined;
    this.#live = undefined;
    let redis: Redis | Cluster;
    try {
      redis = await client;
    } catch {
      return;
    }
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  }
}

/** The user, password and TLS of a cluster's first URL, for every node it discovers. */
function credentials(url: string | undefined): RedisOptions {
  if (!url) return {};
  const parsed = new URL(url);
  const options: RedisOptions = {};
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === "rediss:") options.tls = {};
  return options;
}

function routeKey(route: string, bucketMs: number, start: number): string {
  return redisKey(`stats:${route}`, `:${bucketMs}@${start}`);
}

function membersKey(set: string, start: number): string {
  return redisKey(set, `:members@${start}`);
}
