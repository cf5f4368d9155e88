/**
 * "Did you mean" for config keys: which keys a schema knows at a path, and the closest one
 * to a typo.
 *
 * @module
 */
import type { z } from "zod";

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  valueType?: z.ZodType;
};

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function branches(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
      return branches(def.innerType!);
    case "pipe":
      return branches(def.in!);
    case "union":
      return def.options!.flatMap(branches);
    default:
      return [schema];
  }
}

/**
 * The keys the object schema at `path` accepts (the union of them where branches differ).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigSchema } from "./schema.ts";
 * import { knownKeysAt } from "./suggest.ts";
 *
 * const keys = knownKeysAt(ConfigSchema, ["routes", 0]); // ["name", "path", "upstream", ...]
 * assert.ok(keys.includes("upstream"));
 * ```
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current = branches(schema);
  for (const part of path) {
    const next: z.ZodType[] = [];
    for (const candidate of current) {
      const def = defOf(candidate);
      if (def.type === "object" && typeof part === "string" && def.shape?.[part]) {
        next.push(...branches(def.shape[part]));
      } else if (def.type === "array" && typeof part === "number") {
        next.push(...branches(def.element!));
      } else if (def.type === "record") {
        next.push(...branches(def.valueType!));
      }
    }
    current = next;
  }
  const keys = new Set<string>();
  for (const candidate of current) {
    const def = defOf(candidate);
    if (def.type === "object") Object.keys(def.shape!).forEach((k) => keys.add(k));
  }
  return [...keys];
}

/**
 * The known key closest to `key` by edit distance, when it is close enough to be a typo.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { suggest } from "./suggest.ts";
 *
 * assert.equal(suggest("upstrem", ["upstream", "path"]), "upstream");
 * assert.equal(suggest("colour", ["upstream", "path"]), undefined); // too far to be a typo
 * ```
 */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = key.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(1, Math.floor(key.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
