/**
 * Real media made in the tests, byte by byte: a baseline JPEG of any size (a flat grey
 * photo, EXIF segment included), PNG, GIF and WebP headers, WAV and MP3 clips, and small
 * PDFs, each as base64.
 *
 * @module
 */

/** Base64 of `bytes`, in chunks (a spread of a large array overflows the stack). */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/**
 * A baseline greyscale JPEG of `width` x `height`, flat mid grey: every 8x8 block is a DC
 * difference of 0 (code `00`) and an end of block (code `0000`), so a 4032 x 3024 photo is
 * about 143 KB, as a phone's small JPEG is. `exif` bytes of an APP1 segment come first.
 */
export function jpeg(width: number, height: number, exif = 1024): Uint8Array {
  const app1 = [
    0xff,
    0xe1,
    ...be16(2 + 6 + exif),
    ...ascii("Exif\0\0"),
    ...new Array(exif).fill(0x2a),
  ];
  const dqt = [0xff, 0xdb, ...be16(67), 0x00, ...new Array(64).fill(1)];
  const sof = [0xff, 0xc0, ...be16(11), 8, ...be16(height), ...be16(width), 1, 1, 0x11, 0];
  const counts = (length: number) =>
    Array.from({ length: 16 }, (_, i) => (i === length - 1 ? 1 : 0));
  const dhtDc = [0xff, 0xc4, ...be16(2 + 1 + 16 + 1), 0x00, ...counts(2), 0x00]; // category 0: "00"
  const dhtAc = [0xff, 0xc4, ...be16(2 + 1 + 16 + 1), 0x10, ...counts(4), 0x00]; // EOB: "0000"
  const sos = [0xff, 0xda, ...be16(8), 1, 1, 0x00, 0, 63, 0];
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const scan = new Uint8Array(Math.ceil((blocks * 6) / 8)); // six zero bits a block
  const spare = scan.length * 8 - blocks * 6;
  if (spare > 0) scan[scan.length - 1] = (1 << spare) - 1; // pad the last byte with ones
  return concat([0xff, 0xd8], app1, dqt, sof, dhtDc, dhtAc, sos, scan, [0xff, 0xd9]);
}

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat(ascii(type), data);
  const n = data.length;
  const c = crc32(body);
  return concat([(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff], body, [
    (c >>> 24) & 0xff,
    (c >> 16) & 0xff,
    (c >> 8) & 0xff,
    c & 0xff,
  ]);
}

/** A real greyscale PNG of `width` x `height` (rows of zeros, zlib-compressed). */
export async function png(width: number, height: number): Promise<Uint8Array> {
  const rows = new Uint8Array((width + 1) * height); // filter byte 0, then grey pixels
  const stream = new Blob([rows]).stream().pipeThrough(new CompressionStream("deflate"));
  const idat = new Uint8Array(await new Response(stream).arrayBuffer());
  const ihdr = new Uint8Array([
    ...[24, 16, 8, 0].map((s) => (width >>> s) & 0xff),
    ...[24, 16, 8, 0].map((s) => (height >>> s) & 0xff),
    8, // bit depth
    0, // greyscale
    0,
    0,
    0,
  ]);
  return concat(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", new Uint8Array()),
  );
}

/**
 * A GIF with a `width` x `height` logical screen and one 1x1 frame at (`left`, `top`),
 * after a comment extension.
 */
export function gif(width: number, height: number, left = 0, top = 0): Uint8Array {
  return concat(
    ascii("GIF89a"),
    le16(width),
    le16(height),
    [0x80, 0, 0], // a global color table of 2 colors
    [0, 0, 0, 0xff, 0xff, 0xff],
    [0x21, 0xfe, 5, ...ascii("hello"), 0], // a comment
    [0x2c, ...le16(left), ...le16(top), ...le16(1), ...le16(1), 0],
    [2, 2, 0x44, 0x01, 0], // LZW: clear, 0, end
    [0x3b],
  );
}

/** A WebP header of `kind` for `width` x `height` (the frame data is not valid). */
export function webp(kind: "VP8 " | "VP8L" | "VP8X", width: number, height: number): Uint8Array {
  const head = concat(ascii("RIFF"), le32(100), ascii("WEBP"), ascii(kind), le32(80));
  if (kind === "VP8 ") {
    return concat(
      head,
      [0, 0, 0],
      [0x9d, 0x01, 0x2a],
      le16(width),
      le16(height),
      new Array(10).fill(0),
    );
  }
  if (kind === "VP8L") {
    const v = (width - 1) | ((height - 1) << 14);
    return concat(head, [0x2f], le32(v), new Array(10).fill(0));
  }
  const w = width - 1;
  const h = height - 1;
  return concat(head, [0, 0, 0, 0], [w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff], [
    h & 0xff,
    (h >> 8) & 0xff,
    (h >> 16) & 0xff,
  ], new Array(10).fill(0));
}

/** A PCM WAV clip of `seconds` at `rate` Hz, mono, 16 bits (silence), with a LIST chunk. */
export function wav(seconds: number, rate = 8000, declared?: number): Uint8Array {
  const data = Math.round(seconds * rate) * 2;
  const list = ascii("LISTxxxx");
  list.splice(4, 4, ...le32(4));
  return concat(
    ascii("RIFF"),
    le32(4 + 24 + 12 + 8 + data),
    ascii("WAVE"),
    ascii("fmt "),
    le32(16),
    le16(1),
    le16(1),
    le32(rate),
    le32(rate * 2),
    le16(2),
    le16(16),
    list,
    ascii("INFO"),
    ascii("data"),
    le32(declared ?? data),
    new Uint8Array(data),
  );
}

/** An MP3 of `bytes` bytes: an ID3 tag, then 128 kbit/s MPEG-1 Layer III frame headers. */
export function mp3(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set([...ascii("ID3"), 4, 0, 0, 0, 0, 0, 10, ...new Array(10).fill(0)]);
  for (let i = 20; i + 4 <= bytes; i += 417) out.set([0xff, 0xfb, 0x90, 0x00], i);
  return out;
}

/** A PDF of `pages` pages, its objects uncompressed. */
export function pdf(pages: number): string {
  const kids = Array.from({ length: pages }, (_, i) => `${3 + i} 0 R`).join(" ");
  let text = "%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n";
  text += `2 0 obj <</Type /Pages /Kids [${kids}] /Count ${pages}>> endobj\n`;
  for (let i = 0; i < pages; i++) {
    text += `${3 + i} 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]>> endobj\n`;
  }
  return text + "trailer <</Root 1 0 R>>\n%%EOF\n";
}
