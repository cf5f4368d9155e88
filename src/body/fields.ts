/**
 * Body fields a visitor may set, per endpoint, compared the way the upstream reads them. A
 * preset lists, for each path that takes a body, the top-level fields it forwards; any other
 * field is refused (403), and so is a body to a path it does not list. Keys are matched as
 * Go's `encoding/json` matches them to struct fields (`"WEBHOOK"` and `"ſession"` are
 * `webhook` and `session`), and a body whose keys repeat, or fold to the same field, is
 * refused (400): the gateway and the upstream must read one body the same way.
 *
 * The same policy checks the app or agent a request names against a route's `body.apps`
 * (`namespace/name` globs), and caps the size a one-file upload declares.
 *
 * @module
 */
import type { FieldPolicy } from "../config/presets/preset.ts";
import { compileAllow } from "../rules/allow_list.ts";
import type { UpstreamVariables } from "../rules/resolve.ts";
import type { Stage } from "../stage.ts";
import { parseAppGlob } from "../config/app_glob.ts";
import { refName } from "./app_ref.ts";
import { foldKey } from "./fold.ts";
import type { BodyEdits, BodyPlan, BodyRefusal, BodyRules } from "./rules.ts";

/** A route's settings for the policy. */
export interface FieldSettings {
  /** `namespace/name` globs of the apps and agents visitors may run. */
  apps?: readonly string[];
  /** Largest upload a visitor may declare, in bytes. */
  max_upload?: number;
}

/** A compiled policy: body rules to run first, and a stage for refs in `GET` paths. */
export interface CompiledFieldPolicy {
  /**
   * Checks a body as the scanner read it (a key repeated in any object is refused before
   * this); runs before the route's other body rules.
   */
  check: (body: Record<string, unknown>, path: string) => BodyRefusal | undefined;
  /** Refuses a `GET` that names an app or agent outside `apps`; undefined without `apps`. */
  pathStage?: Stage<UpstreamVariables>;
  /** Whether a body sent to `path` must be there: the endpoint takes fields. */
  needsBody: (path: string) => boolean;
}

function valueOf(object: Record<string, unknown>, field: string): unknown {
  const folded = foldKey(field);
  for (const key in object) if (foldKey(key) === folded) return object[key];
  return undefined;
}

/** The first two keys of `object` that name the same field, if any. */
function sameField(object: Record<string, unknown>): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const key in object) {
    const folded = foldKey(key);
    const earlier = seen.get(folded);
    if (earlier !== undefined) return [earlier, key];
    seen.set(folded, key);
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const refuse = (type: BodyRefusal["type"], message: string): BodyRefusal => ({ type, message });
const what = (field: string) => field[0].toUpperCase() + field.slice(1);

interface CompiledEndpoint {
  matches: (path: string) => boolean;
  fields: ReadonlySet<string>;
  ref?: string;
  refAliases: readonly string[];
  upload?: { fields: ReadonlySet<string>; empty: readonly string[] };
}

/**
 * Compiles a preset's field policy with a route's settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferenceSh } from "../config/presets/inference_sh.ts";
 * import { compileFieldPolicy } from "./fields.ts";
 *
 * const policy = compileFieldPolicy(inferenceSh.fields!, { apps: ["acme/*"] });
 * assert.equal(policy.check({ app: "acme/chat", input: {} }, "/apps/run"), undefined);
 * assert.deepEqual(policy.check({ app: "acme/chat", webhook: "https://x" }, "/apps/run"), {
 *   type: "forbidden",
 *   message: '"webhook" cannot be set through this route',
 * });
 * ```
 */
export function compileFieldPolicy(
  policy: FieldPolicy,
  settings: FieldSettings = {},
): CompiledFieldPolicy {
  const fold = (names: readonly string[]) => new Set(names.map(foldKey));
  const endpoints: CompiledEndpoint[] = Object.entries(policy.endpoints).map(([glob, rule]) => {
    const matcher = compileAllow([`POST ${glob}`]);
    return {
      matches: (path: string) => matcher("POST", path),
      fields: fold(rule.fields),
      ref: rule.ref,
      refAliases: rule.refAliases ?? [],
      upload: rule.upload && { fields: fold(rule.upload.fields), empty: rule.upload.empty },
    };
  });
  const globs = settings.apps?.map(parseAppGlob);
  const allowedRef = (ref: unknown) => {
    const name = typeof ref === "string" ? refName(ref) : undefined;
    return name !== undefined && globs!.some((glob) => glob.test(name));
  };
  const maxUpload = settings.max_upload ?? policy.maxUpload;

  const check = (body: Record<string, unknown>, path: string) => {
    const endpoint = endpoints.find((e) => e.matches(path));
    if (!endpoint) return refuse("forbidden", `${path} takes no request body on this route`);
    const pair = sameField(body);
    if (pair) {
      return refuse(
        "invalid_request",
        `The keys "${pair[0]}" and "${pair[1]}" name the same field`,
      );
    }
    for (const key in body) {
      if (!endpoint.fields.has(foldKey(key))) {
        return refuse("forbidden", `"${key}" cannot be set through this route`);
      }
    }
    if (endpoint.upload) {
      const refusal = checkUpload(body, endpoint.upload, maxUpload);
      if (refusal) return refusal;
    }
    if (globs && endpoint.ref) {
      for (const alias of endpoint.refAliases) {
        const value = valueOf(body, alias);
        if (value !== undefined && value !== null && value !== "") {
          return refuse(
            "forbidden",
            `"${alias}" cannot be used on this route: name the ${endpoint.ref} as namespace/name`,
          );
        }
      }
      const ref = valueOf(body, endpoint.ref);
      if (ref === undefined || ref === null || ref === "") {
        return refuse("forbidden", `"${endpoint.ref}" is required on this route`);
      }
      if (!allowedRef(ref)) {
        return refuse(
          "forbidden",
          `${what(endpoint.ref)} ${JSON.stringify(ref)} is not allowed on this route`,
        );
      }
    }
    return undefined;
  };

  let pathStage: Stage<UpstreamVariables> | undefined;
  if (globs && policy.pathRef) {
    const matcher = compileAllow([`GET ${policy.pathRef.glob}`]);
    const prefix = policy.pathRef.prefix;
    pathStage = (x, next) => {
      const path = x.upstream.path;
      if (matcher("GET", path)) {
        const ref = path.slice(prefix.length).replace(/\/$/, "");
        if (!allowedRef(ref)) {
          return Promise.resolve(
            x.refuse("app_not_allowed", `Agent "${ref}" is not allowed on this route`),
          );
        }
      }
      return next();
    };
  }
  const needsBody = (path: string) =>
    (endpoints.find((e) => e.matches(path))?.fields.size ?? 0) > 0;
  return { check, pathStage, needsBody };
}

/** One file declared, with only the given fields, and a whole positive size within the cap. */
function checkUpload(
  body: Record<string, unknown>,
  rule: NonNullable<CompiledEndpoint["upload"]>,
  maxUpload: number,
): BodyRefusal | undefined {
  const files = valueOf(body, "files");
  if (!Array.isArray(files) || files.length !== 1) {
    return refuse("forbidden", "This route uploads one file per request");
  }
  const file = files[0];
  if (!isObject(file)) return refuse("invalid_request", "files[0] must be a JSON object");
  const pair = sameField(file);
  if (pair) {
    return refuse(
      "invalid_request",
      `The keys "files[0].${pair[0]}" and "files[0].${pair[1]}" name the same field`,
    );
  }
  for (const key in file) {
    if (!rule.fields.has(foldKey(key))) {
      return refuse("forbidden", `"files[0].${key}" cannot be set through this route`);
    }
  }
  for (const field of rule.empty) {
    const value = valueOf(file, field);
    if (value !== undefined && value !== null && value !== "") {
      return refuse("forbidden", `"files[0].${field}" must be empty: the upstream sets it`);
    }
  }
  const size = valueOf(file, "size");
  if (size === undefined) return refuse("invalid_request", "files[0].size is required");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size <= 0) {
    return refuse("invalid_request", "files[0].size must be a positive whole number");
  }
  if (size > maxUpload) {
    return refuse("payload_too_large", `The file is larger than this route's ${maxUpload} bytes`);
  }
  return undefined;
}

/**
 * Puts a compiled field policy in front of a route's body rules: a body the policy refuses
 * never reaches them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferenceSh } from "../config/presets/inference_sh.ts";
 * import { compileFieldPolicy, withFieldPolicy } from "./fields.ts";
 * import { compileBodyRules } from "./rules.ts";
 *
 * const policy = compileFieldPolicy(inferenceSh.fields!);
 * const rules = withFieldPolicy(policy, compileBodyRules(undefined, undefined, false))!;
 * const verdict = rules.apply({ app: "acme/chat", WEBHOOK: "https://x" }, "/apps/run", []);
 * assert.ok("type" in verdict && verdict.type === "forbidden"); // read as `webhook`, as Go would
 * ```
 */
export function withFieldPolicy(
  policy: CompiledFieldPolicy | undefined,
  rules: BodyRules | undefined,
): BodyRules | undefined {
  if (!policy) return rules;
  const check = policy.check;
  const unchanged: BodyEdits = { changed: new Set() };
  const none: BodyPlan["cap"] = [];
  // The policy reads every body, as JSON: one that is not could carry any field. An endpoint
  // that takes fields needs a body; one that takes none may go without.
  const alone: BodyPlan = { generates: false, cap: none, other: "refuse" };
  const needing: BodyPlan = { ...alone, needsBody: true };
  // The rules' plans are few and made at load; each is mapped once, both ways.
  const refusing = new Map<BodyPlan, [BodyPlan, BodyPlan]>();
  return {
    // The policy checks every top-level field a body sets.
    fields: "all",
    text: rules?.text ?? false,
    plan: (method, path) => {
      const inner = rules?.plan(method, path);
      const needs = policy.needsBody(path);
      if (!inner) return needs ? needing : alone;
      let plans = refusing.get(inner);
      if (!plans) {
        const plan = { ...inner, other: "refuse" } as const;
        refusing.set(inner, plans = [plan, { ...plan, needsBody: true }]);
      }
      return plans[needs ? 1 : 0];
    },
    apply: (body, path, text, plan) =>
      check(body, path) ?? rules?.apply(body, path, text, plan) ??
        unchanged,
    checkModel: (model, path) => rules?.checkModel(model, path),
  };
}
