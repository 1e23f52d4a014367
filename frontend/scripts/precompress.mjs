// Writes a Brotli (.br) and a gzip (.gz) copy beside every text file of dist/ worth
// compressing, at the highest levels: the server sends them as they are to clients that
// accept them, so no CPU is spent compressing assets per request (src/web in the server).
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const TEXT = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.txt', '.webmanifest', '.map']);
// Below this, the headers cost more than compression saves.
const SMALLEST = 1024;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

let before = 0;
let after = 0;
for (const path of files(process.argv[2] ?? 'dist')) {
  if (!TEXT.has(extname(path)) || statSync(path).size < SMALLEST) continue;
  const data = readFileSync(path);
  const br = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  const gz = gzipSync(data, { level: constants.Z_BEST_COMPRESSION });
  // A copy no smaller than the file is not worth a variant.
  if (br.length < data.length) writeFileSync(`${path}.br`, br);
  if (gz.length < data.length) writeFileSync(`${path}.gz`, gz);
  before += data.length;
  after += Math.min(br.length, data.length);
}
console.log(`precompressed dist: ${before} bytes of text, ${after} with Brotli`);
