import assert from "node:assert/strict";
import { foldKey } from "./fold.ts";

Deno.test("foldKey: ASCII keys fold case-insensitively", () => {
  assert.equal(foldKey("webhook"), foldKey("WEBHOOK"));
  assert.equal(foldKey("run_at"), foldKey("Run_At"));
  assert.notEqual(foldKey("run_at"), foldKey("runat"));
  assert.equal(foldKey("app_id"), "APP_ID");
});

Deno.test("foldKey: the long s and the Kelvin sign fold to ASCII letters, as in Go", () => {
  assert.equal(foldKey("ſession"), foldKey("session"));
  assert.equal(foldKey("\u212Aey"), foldKey("key"));
  assert.equal(foldKey("wor\u212Aer\u017F"), foldKey("WORKERS"));
  assert.equal(foldKey("ſ"), "S");
  assert.equal(foldKey("\u212A"), "K");
});

Deno.test("foldKey: only simple case folding, never full or Turkic folding", () => {
  assert.notEqual(foldKey("ıd"), foldKey("id"), "dotless i has no simple folding");
  assert.notEqual(foldKey("İd"), foldKey("id"), "dotted capital I has no simple folding");
  assert.notEqual(foldKey("ß"), foldKey("ss"), "ß folds to ss only in full folding");
  assert.equal(foldKey("ẞ"), foldKey("ß"));
});

Deno.test("foldKey: every member of a folding orbit folds alike", () => {
  for (
    const orbit of [
      ["Σ", "σ", "ς"],
      ["µ", "μ", "Μ"],
      ["Θ", "θ", "ϑ", "ϴ"],
      ["Ι", "ι", "\u0345", "\u1fbe"],
      ["Ǆ", "ǅ", "ǆ"],
      ["Å", "å", "\u212b"],
      ["Ω", "ω", "\u2126"],
      ["\u13a0", "\uab70"],
      ["\u1fd3", "\u0390"],
    ]
  ) {
    for (const member of orbit) assert.equal(foldKey(member), foldKey(orbit[0]), member);
  }
  assert.equal(foldKey("\ud800x"), "\ufffdX", "a lone surrogate reads as U+FFFD");
});
