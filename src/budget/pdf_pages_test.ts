import assert from "node:assert/strict";
import { pdf } from "./fixtures_test.ts";
import { pdfPages } from "./pdf_pages.ts";

Deno.test("pdfPages: the page tree's count, page objects and kids agree", () => {
  assert.equal(pdfPages(btoa(pdf(1))), 1);
  assert.equal(pdfPages(btoa(pdf(12))), 12);
});

Deno.test("pdfPages: a count that is too low is overruled by the pages present", () => {
  assert.equal(pdfPages(btoa(pdf(5).replace("/Count 5", "/Count 1"))), 5);
  assert.equal(pdfPages(btoa(pdf(2).replace("/Count 2", "/Count 40"))), 40);
});

Deno.test("pdfPages: what may hide pages is undefined", () => {
  const objectStreams = pdf(3) +
    "9 0 obj <</Type /ObjStm /N 3 /First 10>> stream\nx\nendstream endobj\n";
  assert.equal(pdfPages(btoa(objectStreams)), undefined);
  assert.equal(pdfPages(btoa(pdf(3).replace("/Type /Page ", "/Type /P#61ge "))), undefined);
  assert.equal(pdfPages(btoa(pdf(3).replace("/Count 3", "/Count 9 0 R"))), undefined);
  assert.equal(pdfPages(btoa(pdf(3).replace(/\/Kids \[[^\]]*\]/, "/Kids 8 0 R"))), undefined);
  assert.equal(pdfPages(btoa("not a PDF")), undefined);
  assert.equal(pdfPages("%%%"), undefined);
});
