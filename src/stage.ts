/**
 * Stages and the line they form. A stage is one step a request goes through (resolve its
 * target, name its client, check its limits, read its body, ...): it answers (returns a
 * Response) or passes the request on by calling `next` with what it learned, and may act
 * after the rest of the line has answered.
 *
 * What a stage learns it publishes as a typed value, the way hono's request-id middleware
 * declares `RequestIdVariables`: the auth stage `{ client }`, the resolve stage
 * `{ upstream }`, and so on. A stage's type says what it needs from the stages before it and
 * what it adds: `Stage<ClientVariables, PlanVariables>` reads `x.client` and adds `x.plan`.
 * A {@linkcode Line} is built in order, and a stage whose needs the stages before it do not
 * meet does not compile.
 *
 * @module
 */
import type { Exchange } from "./exchange.ts";

/** Passes the request on, with what the stage adds (nothing for `void`). */
export type Next<Add> = (add: Add) => Promise<Response>;

/**
 * One step of a route's line: needs `Need` from the stages before it, adds `Add`.
 *
 * @example
 * ```ts
 * import type { Stage } from "./stage.ts";
 *
 * // needs nothing, adds `greeting`
 * const greet: Stage<unknown, { greeting: string }> = (_x, next) => next({ greeting: "hi" });
 * ```
 */
export interface Stage<Need, Add = void> {
  (x: Exchange & Need, next: Next<Add>): Promise<Response>;
}

/** The last step of a line: it answers, with no `next`. */
export type Handler<Need> = (x: Exchange & Need) => Promise<Response>;

/** What a line has after a stage that adds `Add`. */
type With<Have, Add> = [Add] extends [void] ? Have : Have & Add;

/** The keys `Need` asks for that `Have` does not give. */
type Missing<Need, Have> = Exclude<keyof Need, keyof Have>;

/** A stage that runs whatever the line before it has: for composing, once its type is checked. */
// deno-lint-ignore no-explicit-any
type AnyStage = Stage<any, any>;

/**
 * A route's stages in order, typed by what they have published so far.
 *
 * @example
 * ```ts
 * import { Exchange } from "./exchange.ts";
 * import { Line, type Stage } from "./stage.ts";
 *
 * const name: Stage<unknown, { name: string }> = (_x, next) => next({ name: "alice" });
 * const greet = (x: Exchange & { name: string }) =>
 *   Promise.resolve(new Response(`hello ${x.name}`));
 * const run = new Line().then(name).end(greet);
 * // new Line().end(greet) does not compile: nothing published `name`
 *
 * const request = new Request("http://gateway/hi");
 * const answer = await run(new Exchange(request, undefined, "req-1", "", "/hi", () => {}));
 * if ((await answer.text()) !== "hello alice") throw new Error("not greeted");
 * ```
 */
export class Line<Have = unknown> {
  readonly #stages: readonly AnyStage[];

  /** An empty line (or one holding `stages`, already checked). */
  constructor(stages: readonly AnyStage[] = []) {
    this.#stages = stages;
  }

  /** The line with `stage` after the others; it must need only what they published. */
  then<Need, Add>(
    stage: Stage<Need, Add>,
    ..._check: Have extends Need ? [] : [missing: Missing<Need, Have>]
  ): Line<With<Have, Add>> {
    return new Line([...this.#stages, stage]);
  }

  /**
   * The line with `stage` when `when` holds, else unchanged: a stage a route may leave out.
   * What it adds is then optional to the stages after it.
   */
  maybe<Need, Add>(
    when: unknown,
    stage: () => Stage<Need, Add>,
    ..._check: Have extends Need ? [] : [missing: Missing<Need, Have>]
  ): Line<With<Have, Partial<Add>>> {
    return when ? new Line([...this.#stages, stage()]) : this as Line<With<Have, Partial<Add>>>;
  }

  /** Ends the line with `handler`: one function that runs a request through every stage. */
  end(handler: Handler<Have>): (x: Exchange) => Promise<Response> {
    let run = handler as (x: Exchange) => Promise<Response>;
    for (let i = this.#stages.length - 1; i >= 0; i--) {
      const stage = this.#stages[i];
      const rest = run;
      run = (x) =>
        stage(x, (add: unknown) => {
          if (add !== undefined) Object.assign(x, add);
          return rest(x);
        });
    }
    return run;
  }
}
