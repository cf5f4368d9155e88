import assert from "node:assert/strict";
import { audioSeconds } from "./audio_length.ts";
import { base64, mp3, wav } from "./fixtures_test.ts";

Deno.test("audioSeconds: a PCM WAV lasts its data chunk over its frame rate", () => {
  assert.equal(audioSeconds(base64(wav(2))), 2);
  assert.equal(audioSeconds(base64(wav(1.5, 16_000))), 1.5);
});

Deno.test("audioSeconds: a WAV's declared length is capped by the bytes it has", () => {
  assert.equal(audioSeconds(base64(wav(1, 8000, 0xffffffff))), 1); // streamed: unknown size
  assert.equal(audioSeconds(base64(wav(1, 8000, 10 * 16_000))), 1); // claims ten seconds
  assert.equal(audioSeconds(base64(wav(1, 8000, 0))), 1); // claims none
});

Deno.test("audioSeconds: an MP3 lasts at most a second per 1,000 bytes", () => {
  assert.equal(audioSeconds(base64(mp3(50_000))), 50);
});

Deno.test("audioSeconds: other formats, or damaged headers, are undefined", () => {
  assert.equal(audioSeconds(btoa("OggS" + "\x00".repeat(60))), undefined);
  assert.equal(audioSeconds(btoa("fLaC" + "\x00".repeat(60))), undefined);
  const clip = wav(1);
  clip[20] = 2; // ADPCM: a block holds many frames
  assert.equal(audioSeconds(base64(clip)), undefined);
  const free = mp3(5000);
  free.set([0xff, 0xfb, 0x00, 0x00], 20); // free-format bit rate
  assert.equal(audioSeconds(base64(free)), undefined);
});
