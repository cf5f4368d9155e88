/**
 * The proxy SDKs users would otherwise pick, as bench peers: the inference.sh SDK proxy and
 * fal's server proxy, each on Express under Node as their docs set them up, bundled from
 * `peers/*.ts` and aimed at the mock upstream through their target-URL headers.
 *
 * @module
 */
import { freePort, startListening } from "./spawn.ts";

const PEERS = [
  {
    name: "inference.sh SDK proxy (Express, Node)",
    entry: "inferencesh_express.ts",
    path: "/api/inference/proxy",
    header: "x-inf-target-url",
  },
  {
    name: "fal server-proxy (Express, Node)",
    entry: "fal_express.ts",
    path: "/api/fal/proxy",
    header: "x-fal-target-url",
  },
] as const;

/** A running peer. */
export interface Peer {
  /** Row name in the table. */
  name: string;
  /** The URL wrk drives. */
  url: string;
  /** Headers wrk sends: the target URL of the mock's JSON endpoint. */
  headers: Record<string, string>;
  /** Process id, for its RSS. */
  pid: number;
  /** Stops it. */
  stop(): Promise<void>;
}

async function hasNode(): Promise<boolean> {
  try {
    return (await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/**
 * Bundles and starts every peer that can run here (Node on the PATH); returns none, with a
 * note on standard error, when it cannot.
 */
export async function startPeers(dir: string, targetUrl: string): Promise<Peer[]> {
  if (!(await hasNode())) {
    console.error("node not found: the SDK proxy peers are left out");
    return [];
  }
  const peers: Peer[] = [];
  for (const peer of PEERS) {
    const bundle = `${dir}/${peer.entry.replace(/\.ts$/, ".mjs")}`;
    const built = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=node",
        "-o",
        bundle,
        new URL(`./peers/${peer.entry}`, import.meta.url).pathname,
      ],
      stderr: "piped",
    }).output();
    if (!built.success) {
      console.error(`${peer.name} left out: ${new TextDecoder().decode(built.stderr)}`);
      continue;
    }
    const port = freePort();
    const server = await startListening(peer.name, "node", [bundle], port, {
      PORT: String(port),
      NODE_ENV: "production",
    });
    peers.push({
      name: peer.name,
      url: `http://127.0.0.1:${port}${peer.path}`,
      headers: { [peer.header]: targetUrl },
      pid: server.pid,
      stop: server.stop,
    });
  }
  return peers;
}
