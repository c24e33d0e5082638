/**
 * IDX files (the MNIST / Fashion-MNIST container), gzipped or not.
 *
 * Layout: a big-endian u32 magic `0x00 0x00 TYPE NDIM`, NDIM big-endian u32
 * dimensions, then the payload, row-major. Only TYPE 0x08 (unsigned byte) is
 * accepted: it is the only type the data sets here use.
 *
 * Every error names the file and says what is wrong.
 */
import * as fs from "fs";
import * as zlib from "zlib";

export interface IdxArray {
  /** Dimensions, outermost first, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The u8 payload, row-major; a view into the decoded file (no copy). */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/** True when the bytes start with the gzip magic 0x1f 0x8b. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Parse an IDX file held in memory (already gunzipped, or gzipped: it is
 * detected by its magic). `file` only names the source in error messages.
 */
export function parseIdx(bytes: Uint8Array, file = "<buffer>"): IdxArray {
  let buf = bytes;
  if (isGzip(buf)) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new Error(`IDX file ${file}: gzip data is corrupt (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) {
    throw new Error(`IDX file ${file}: too short for an IDX header (${buf.length} bytes, need at least 4)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf[0] !== 0 || buf[1] !== 0) {
    const magic = view.getUint32(0, false).toString(16).padStart(8, "0");
    throw new Error(
      `IDX file ${file}: bad magic 0x${magic} (the first two bytes must be 0x00 0x00; not an IDX file, or a gzip file that lost its gzip header)`,
    );
  }
  const type = buf[2]!;
  const ndim = buf[3]!;
  if (type !== 0x08) {
    const name = TYPE_NAMES[type] ? ` (${TYPE_NAMES[type]})` : " (not a valid IDX type)";
    throw new Error(`IDX file ${file}: element type 0x${type.toString(16).padStart(2, "0")}${name} is not supported; only 0x08 (unsigned byte) is`);
  }
  if (ndim === 0) throw new Error(`IDX file ${file}: number of dimensions is 0`);
  const headerLen = 4 + 4 * ndim;
  if (buf.length < headerLen) {
    throw new Error(`IDX file ${file}: truncated header: ${ndim} dimensions need ${headerLen} bytes, the file has ${buf.length}`);
  }
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const payload = buf.length - headerLen;
  if (payload !== count) {
    throw new Error(
      `IDX file ${file}: payload is ${payload} bytes but dims [${dims.join(", ")}] need ${count} (${payload < count ? "truncated" : "trailing bytes"})`,
    );
  }
  return { dims, data: buf.subarray(headerLen) };
}

/** Read and parse an IDX file from disk (gzipped or not). */
export function readIdxFile(file: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`IDX file ${file}: cannot read it (${(e as Error).message})`);
  }
  return parseIdx(bytes, file);
}

/** Encode a u8 array as an IDX file (for tests and caches); gzip on request. */
export function encodeIdx(dims: readonly number[], data: Uint8Array, opts: { gzip?: boolean } = {}): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  if (dims.length === 0 || dims.length > 255) throw new Error(`encodeIdx: need 1..255 dims, got ${dims.length}`);
  if (count !== data.length) throw new Error(`encodeIdx: dims [${dims.join(", ")}] need ${count} bytes, data has ${data.length}`);
  const out = Buffer.alloc(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  out.set(data, 4 + 4 * dims.length);
  return opts.gzip ? zlib.gzipSync(out) : out;
}
