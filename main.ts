/**
 * The keyward command line: `serve` (the default), `check`, `schema` and `token`.
 *
 * ```sh
 * deno run -A main.ts [serve] [--config FILE] [--port N] [--hostname H]
 * deno run -A main.ts check [--config FILE]
 * deno run -A main.ts schema
 * KEYWARD_TOKEN_SECRET=... deno run -A main.ts token --sub ID --ttl 15m [--route R] ...
 * ```
 *
 * @module
 */
import { ConfigError } from "./src/config/load.ts";
import { checkConfig } from "./src/check.ts";
import { configJsonSchema } from "./src/config/schema.ts";
import { serve } from "./src/server.ts";
import { MintError, mintToken } from "./src/auth/mint.ts";
import { parseTokenArgs, TOKEN_USAGE } from "./src/auth/mint_args.ts";

const USAGE = `keyward: a gateway that keeps AI API keys on the server

Usage:
  keyward [serve] [--config FILE] [--port N] [--hostname H] [--reuse-port]
  keyward check [--config FILE]
  keyward schema
  keyward token --sub ID [--ttl 15m] [--route R] [--model M] [--tokens N/unit]
                [--requests N/unit] [--origin O] [--once]   (secret: KEYWARD_TOKEN_SECRET)

Options:
  -c, --config FILE   routes.yaml to use (default ./routes.yaml)
  -p, --port N        port to listen on (beats PORT and server.port)
  -H, --hostname H    address to listen on (beats server.hostname)
      --reuse-port    let several keyward processes share the port, one per core
                      (Linux, needs --unstable-net; each process has its own memory
                      store: use redis or kv to share limits)
  -h, --help          show this help
`;

interface Args {
  command: "serve" | "check" | "schema" | "help";
  config: string;
  port?: number;
  hostname?: string;
  reusePort?: boolean;
}

/** Parses the command line; throws an Error with a message for the user. */
export function parseArgs(argv: readonly string[]): Args {
  const args: Args = { command: "serve", config: "routes.yaml" };
  const rest = [...argv];
  if (rest[0] && !rest[0].startsWith("-")) {
    const command = rest.shift()!;
    if (command !== "serve" && command !== "check" && command !== "schema") {
      throw new Error(`Unknown command "${command}"`);
    }
    args.command = command;
  }
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? rest.shift();
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-c":
      case "--config":
        args.config = value();
        break;
      case "-p":
      case "--port": {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new Error(`${flag} needs a port number from 0 to 65535`);
        }
        args.port = port;
        break;
      }
      case "-H":
      case "--hostname":
        args.hostname = value();
        break;
      case "--reuse-port":
        if (inline !== undefined) throw new Error(`${flag} takes no value`);
        args.reusePort = true;
        break;
      case "-h":
      case "--help":
        args.command = "help";
        break;
      default:
        throw new Error(`Unknown option "${arg}"`);
    }
  }
  return args;
}

/** `keyward token ...`: prints one client token. */
async function token(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseTokenArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${TOKEN_USAGE}`);
    return 2;
  }
  const secret = Deno.env.get("KEYWARD_TOKEN_SECRET");
  if (!secret) {
    console.error("Set KEYWARD_TOKEN_SECRET to the secret of the route's jwt auth");
    return 2;
  }
  try {
    console.log(await mintToken({ ...options, secret }));
    return 0;
  } catch (error) {
    if (!(error instanceof MintError)) throw error;
    console.error(error.message);
    return 1;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "token") return await token(argv.slice(1));
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  switch (args.command) {
    case "help":
      console.log(USAGE);
      return 0;
    case "schema":
      console.log(JSON.stringify(configJsonSchema(), null, 2));
      return 0;
    case "check": {
      const result = await checkConfig(args.config);
      if (result.ok) console.log(result.report);
      else console.error(result.report);
      return result.ok ? 0 : 1;
    }
    case "serve":
      try {
        const server = await serve({
          configPath: args.config,
          port: args.port,
          hostname: args.hostname,
          reusePort: args.reusePort,
        });
        await server.finished;
        return 0;
      } catch (error) {
        if (error instanceof ConfigError) {
          console.error(error.message);
          return 1;
        }
        throw error;
      }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
