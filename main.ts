/**
 * The keyward command line: `serve` (the default), `check`, `schema`, `token` and `prices`.
 *
 * ```sh
 * deno run -A main.ts [serve] [--config FILE] [--port N] [--hostname H]
 * deno run -A main.ts check [--config FILE] [--permissions]
 * deno run -A main.ts schema
 * KEYWARD_TOKEN_SECRET=... deno run -A main.ts token --sub ID --ttl 15m [--route R] ...
 * deno run -A main.ts prices [--model M] [--config FILE]
 * ```
 *
 * @module
 */
import { flags } from "./src/cli_flags.ts";

// Each command loads what it needs when it runs: serving never loads the checker, the schema
// printer or the token minter, so the gateway answers sooner.

const USAGE = `keyward: a gateway that keeps AI API keys on the server

Usage:
  keyward [serve] [--config FILE] [--port N] [--hostname H] [--reuse-port]
  keyward check [--config FILE] [--permissions]
  keyward schema
  keyward token --sub ID [--ttl 15m] [--route R] [--model M] [--tokens N/unit]
                [--requests N/unit] [--origin O] [--once]   (secret: KEYWARD_TOKEN_SECRET)
  keyward prices [--model M] [--config FILE]
                the price per 1M tokens each model is charged at, and where it comes
                from (the built-in table, or prices: in FILE)

Options:
  -c, --config FILE   routes.yaml to use (default ./routes.yaml)
  -p, --port N        port to listen on (beats PORT and server.port)
  -H, --hostname H    address to listen on (beats server.hostname)
      --reuse-port    let several keyward processes share the port, one per core
                      (Linux, needs --unstable-net; each process has its own memory
                      store: use redis or kv to share limits)
      --permissions   (check) also list what a binary locked to the file may reach
                      and read (deno task compile --config FILE)
  -h, --help          show this help
`;

interface Args {
  command: "serve" | "check" | "schema" | "help";
  config: string;
  port?: number;
  hostname?: string;
  reusePort?: boolean;
  permissions?: boolean;
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
  for (const { name: flag, value, inline } of flags(rest)) {
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
      case "--permissions":
        if (inline !== undefined) throw new Error(`${flag} takes no value`);
        args.permissions = true;
        break;
      case "-h":
      case "--help":
        args.command = "help";
        break;
      default:
        throw new Error(`Unknown option "${flag}"`);
    }
  }
  if (args.permissions && args.command !== "check") {
    throw new Error("--permissions goes with check");
  }
  return args;
}

/** `keyward token ...`: prints one client token. */
async function token(argv: readonly string[]): Promise<number> {
  const { parseTokenArgs, TOKEN_USAGE } = await import("./src/auth/mint_args.ts");
  const { MintError, mintToken } = await import("./src/auth/mint.ts");
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

/** `keyward prices ...`: lists the prices models are charged at, or one model's. */
async function prices(argv: readonly string[]): Promise<number> {
  const { describeModel, listPrices, parsePricesArgs, PRICES_USAGE } = await import(
    "./src/money/price_list.ts"
  );
  let args;
  try {
    args = parsePricesArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${PRICES_USAGE}`);
    return 2;
  }
  let overrides;
  if (args.config) {
    const { ConfigError } = await import("./src/config/issues.ts");
    const { loadConfigFile } = await import("./src/config/load_file.ts");
    try {
      const { config } = await loadConfigFile(args.config);
      overrides = config.prices;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(error.message);
      return 1;
    }
  }
  const { loadPrices } = await import("./src/money/prices.ts");
  let book;
  try {
    book = await loadPrices(overrides);
  } catch (error) {
    console.error(`${args.config}: ${(error as Error).message}`);
    return 1;
  }
  if (args.model === undefined) {
    console.log(listPrices(book, { config: args.config }));
    return 0;
  }
  const text = describeModel(book, args.model, { config: args.config });
  if (text === undefined) {
    console.error(
      `No price for model "${args.model}": add it under prices: in ${
        args.config ?? "the config"
      } ` +
        `(USD per 1M tokens, such as ${JSON.stringify(args.model)}: { input: 1.00, output: 4.00 })`,
    );
    return 1;
  }
  console.log(text);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "token") return await token(argv.slice(1));
  if (argv[0] === "prices") return await prices(argv.slice(1));
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
    case "schema": {
      const { configJsonSchema } = await import("./src/config/schema.ts");
      console.log(JSON.stringify(configJsonSchema(), null, 2));
      return 0;
    }
    case "check": {
      const { checkConfig } = await import("./src/check.ts");
      const result = await checkConfig(args.config);
      if (!result.ok) {
        console.error(result.report);
        return 1;
      }
      console.log(result.report);
      if (args.permissions) {
        const text = await Deno.readTextFile(args.config);
        console.log(`\n${await describeGrants(args.config, text)}`);
      }
      return 0;
    }
    case "serve": {
      const { serve } = await import("./src/server.ts");
      const { ConfigError } = await import("./src/config/issues.ts");
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
}

/** What `check --permissions` prints: the grants of a binary locked to `path`. */
async function describeGrants(path: string, text: string): Promise<string> {
  const { lockedGrants } = await import("./src/server/permissions.ts");
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined; // not granted here: the default, as at build time without it
    }
  };
  const grants = lockedGrants(path, text, env);
  const list = (items: string[]) => items.length ? items.join(", ") : "nothing";
  return [
    `A binary locked to this file (deno task compile --config ${path}) may:`,
    `  connect to or listen on  ${list(grants.net)}`,
    `  read the variables       ${list(grants.env)}`,
    `  read the files           ${list(grants.read)}`,
    `  write the files          ${list(grants.write)}`,
    "and nothing else: more fails with NotCapable (an upstream it may not reach answers 502).",
    "Release binaries may reach any host and read any variable or file, and write no file.",
  ].join("\n");
}

if (import.meta.main) Deno.exit(await main(Deno.args));
