/**
 * The flags of `keyward token`: `--sub ID --ttl 15m [--route R] [--model M] [--tokens N/unit]
 * [--requests N/unit] [--spend '$X/unit'] [--concurrent N] [--origin O] [--once] [--issuer I]
 * [--audience A]`,
 * turned into {@linkcode MintOptions} (the secret comes from `KEYWARD_TOKEN_SECRET`).
 *
 * @module
 */
import { flags } from "../cli_flags.ts";
import type { MintOptions } from "./mint.ts";

/** Usage of the `token` command. */
export const TOKEN_USAGE = `Usage:
  keyward token --sub ID [--ttl 15m] [--route R]... [--model M]... [--tokens N/unit]
                [--requests N/unit] [--spend '$X/unit'] [--concurrent N] [--origin O]
                [--once] [--issuer I] [--audience A]

Prints a client token signed with KEYWARD_TOKEN_SECRET (the route's auth: { jwt: { secret } }).
--route and --model may be given more than once.`;

/**
 * Parses the flags after `token`; throws an Error with a message for the user.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTokenArgs } from "./mint_args.ts";
 *
 * const options = parseTokenArgs(["--sub", "user-42", "--ttl", "15m", "--route", "openai"]);
 * assert.deepEqual(options, { subject: "user-42", expiresIn: "15m", routes: ["openai"] });
 * ```
 */
export function parseTokenArgs(argv: readonly string[]): Omit<MintOptions, "secret"> {
  const options: Omit<MintOptions, "secret"> & { subject: string } = { subject: "" };
  const limits: NonNullable<MintOptions["limits"]> = {};
  for (const { name: flag, value, inline } of flags(argv)) {
    switch (flag) {
      case "--sub":
        options.subject = value();
        break;
      case "--ttl":
        options.expiresIn = value();
        break;
      case "--route":
        (options.routes ??= []).push(value());
        break;
      case "--model":
        (options.models ??= []).push(value());
        break;
      case "--tokens":
        limits.tokens = value();
        break;
      case "--requests":
        limits.requests = value();
        break;
      case "--spend":
        limits.spend = value();
        break;
      case "--concurrent": {
        const n = Number(value());
        if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
        limits.concurrent = n;
        break;
      }
      case "--origin":
        options.origin = value();
        break;
      case "--once":
        if (inline !== undefined) throw new Error(`${flag} takes no value`);
        options.once = true;
        break;
      case "--issuer":
        options.issuer = value();
        break;
      case "--audience":
        options.audience = value();
        break;
      default:
        throw new Error(`Unknown option "${flag}"`);
    }
  }
  if (!options.subject) throw new Error("--sub is required");
  if (Object.keys(limits).length) options.limits = limits;
  return options;
}
