import assert from "node:assert/strict";
import { base64, gif, jpeg, png, webp } from "./fixtures_test.ts";
import { imageSize } from "./image_size.ts";

Deno.test("imageSize: a real JPEG, past a large EXIF segment", () => {
  assert.deepEqual(imageSize(base64(jpeg(4032, 3024, 60_000))), { width: 4032, height: 3024 });
  assert.deepEqual(imageSize(base64(jpeg(17, 9))), { width: 17, height: 9 });
});

Deno.test("imageSize: a real PNG", async () => {
  assert.deepEqual(imageSize(base64(await png(640, 360))), { width: 640, height: 360 });
});

Deno.test("imageSize: a GIF is as large as its screen or any frame reaching past it", () => {
  assert.deepEqual(imageSize(base64(gif(320, 200))), { width: 320, height: 200 });
  assert.deepEqual(imageSize(base64(gif(10, 10, 5000, 20))), { width: 5001, height: 21 });
});

Deno.test("imageSize: WebP, lossy, lossless and extended", () => {
  for (const kind of ["VP8 ", "VP8L", "VP8X"] as const) {
    assert.deepEqual(imageSize(base64(webp(kind, 1200, 800))), { width: 1200, height: 800 }, kind);
  }
});

Deno.test("imageSize: inside a data URL, at its payload's offset", () => {
  const prefix = "data:image/jpeg;base64,";
  assert.deepEqual(imageSize(prefix + base64(jpeg(800, 600)), prefix.length), {
    width: 800,
    height: 600,
  });
});

Deno.test("imageSize: what cannot be read is undefined, never a guess", () => {
  const photo = base64(jpeg(800, 600));
  assert.equal(imageSize(photo.slice(0, 40)), undefined); // cut before the frame header
  assert.equal(imageSize(photo.slice(0, 8) + "\n" + photo.slice(8)), undefined); // not base64
  assert.equal(imageSize(btoa("\x00\x00\x00\x18ftypheic" + "\x00".repeat(40))), undefined); // HEIC
  assert.equal(imageSize(base64(gif(10, 10)).slice(0, 30)), undefined); // no trailer
  assert.equal(imageSize(base64(jpeg(0, 600))), undefined); // height defined later (DNL)
  assert.equal(imageSize(""), undefined);
});

Deno.test("imageSize: a 190 KB payload is read in well under a millisecond", () => {
  const photo = base64(jpeg(4032, 3024, 7000));
  imageSize(photo);
  const start = performance.now();
  for (let i = 0; i < 100; i++) imageSize(photo);
  assert.ok((performance.now() - start) / 100 < 1);
});
