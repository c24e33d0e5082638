import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  DNA_GENOMES,
  DNA_GUARD_BP,
  DNA_SOURCE_FILES,
  DNA_TASKS,
  DNA_TASK_INFO,
  DNA_PRETRAIN_DATASETS_MD,
  DatasetFileError,
  SPLITS,
  dnaBlocks,
  dnaSplitOf,
  dnaSummary,
  dnaWindowStarts,
  loadDnaGenomes,
  loadDnaPretrain,
  loadDnaTask,
  parseGenbank,
  reverseComplement,
} from "../lib/data";
import { initEngine } from "../lib/engine";
import { Caduceus, HyenaBlock, HyenaDNA, resolveHyenaConfig, reverseComplementTokens } from "../lib/models/hyena";
import { directCausalConv, fftConv, fftConvBackward, fftConvForward } from "../lib/ops/fft-conv";
import { nativeLoadError, nativeStats } from "../lib/engine/native";
import { ParamStore } from "../lib/ops/param";
import { dnaNextTokenTask, train } from "../lib/train";
import { Rng } from "../lib/util/rng";
import { assertClose, gradCheck, useEngine } from "./helpers";

const rand = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.normal());

describe("DNA data (Debian genomes, datasets.md)", () => {
  it("parses GenBank features: key lines, continuation lines, join/complement/partial ranges", () => {
    const gb = [
      "LOCUS       X 30 bp",
      "FEATURES             Location/Qualifiers",
      "     source          1..30",
      "     gene            <2..>9",
      "     CDS             complement(join(2..4,",
      "                     6..9))",
      '                     /note="12..20 is not a range"',
      "     tRNA            20..25",
      "ORIGIN      ",
      "        1 acgtnacgta cgtacgtacg tacgtacgta",
      "//",
    ].join("\n");
    const { seq, features } = parseGenbank(gb);
    assert.equal(seq.length, 30);
    assert.deepEqual(Array.from(seq.subarray(0, 6)), [0, 1, 2, 3, 4, 0]);
    assert.deepEqual(
      features.map((f) => [f.key, f.ranges]),
      [
        ["source", [[1, 30]]],
        ["gene", [[2, 9]]],
        ["CDS", [[2, 4], [6, 9]]],
        ["tRNA", [[20, 25]]],
      ],
    );
    assert.deepEqual(Array.from(reverseComplement([0, 1, 2, 3, 4])), [4, 0, 1, 2, 3]);
  });

  it("reads the 10 genomes at their recorded lengths and cuts contiguous 80/10/10 blocks", () => {
    const gs = loadDnaGenomes();
    assert.deepEqual(gs.map((g) => g.id), DNA_GENOMES.map((g) => g.id));
    for (const g of gs) {
      assert.equal(g.seq.length, g.bp, g.id);
      const [a, b, c] = g.blocks;
      assert.deepEqual([a!.start, a!.end === b!.start, b!.end === c!.start, c!.end], [0, true, true, g.bp]);
      assert.ok(Math.abs(a!.end / g.bp - 0.8) < 1e-6 && Math.abs((c!.end - c!.start) / g.bp - 0.1) < 1e-6);
    }
    const total = gs.reduce((s, g) => s + g.bp, 0);
    assert.equal(total, 72408432, "72.4 Mbp");
  });

  it("keeps every window inside one block, clear of the guard; split blocks are disjoint", () => {
    const gs = loadDnaGenomes();
    // pretraining segments
    for (const split of SPLITS) {
      const ds = loadDnaPretrain({ split });
      for (const s of ds.segments) {
        const g = gs.find((x) => x.id === s.genome)!;
        assert.equal(dnaSplitOf(g.bp, s.genomeStart, s.genomeStart + s.length), split, `${split} segment of ${s.genome}`);
        assert.deepEqual(ds.tokens.subarray(s.offset, s.offset + 50), g.seq.subarray(s.genomeStart, s.genomeStart + 50));
      }
      // next-token windows (seqLen + 1 bases) never leave their segment
      const starts = dnaWindowStarts(ds, 1000);
      let seg = 0;
      for (const st of starts) {
        while (st >= ds.segments[seg]!.offset + ds.segments[seg]!.length) seg++;
        assert.ok(st + 1001 <= ds.segments[seg]!.offset + ds.segments[seg]!.length);
      }
    }
    for (const task of DNA_TASKS) {
      const L = DNA_TASK_INFO[task].seqLen;
      const seen = new Map<string, string>();
      for (const split of SPLITS) {
        const ds = loadDnaTask(task, { split });
        for (let i = 0; i < ds.n; i++) {
          const g = gs[ds.genome[i]!]!;
          const st = ds.start[i]!;
          assert.equal(dnaSplitOf(g.bp, st, st + L), split, `${task}/${split} example ${i} (${g.id} ${st})`);
          const key = `${g.id}:${st}`;
          assert.ok(!seen.has(key) || seen.get(key) === split, `${key} in two splits`);
          seen.set(key, split);
          if (i < 20) {
            const w = g.seq.subarray(st, st + L);
            assert.deepEqual(ds.seqs.subarray(i * L, (i + 1) * L), ds.strand[i] ? reverseComplement(w) : w, `${task}/${split} example ${i} is its genome's window`);
          }
        }
      }
    }
    // The guard: a window touching a block edge is refused.
    const n = 1_000_000;
    const [, val] = dnaBlocks(n);
    assert.equal(dnaSplitOf(n, val!.start, val!.start + 200), undefined);
    assert.equal(dnaSplitOf(n, val!.start + DNA_GUARD_BP, val!.start + DNA_GUARD_BP + 200), "val");
  });

  it("balances the binary tasks, labels species by genome, and matches datasets.md's sizes within 2 %", () => {
    for (const split of SPLITS) {
      for (const task of ["coding", "promoter"] as const) {
        const ds = loadDnaTask(task, { split });
        const ones = ds.labels.reduce((a, b) => a + b, 0);
        assert.equal(2 * ones, ds.n, `${task}/${split} balanced`);
        // stored shuffled: a prefix is mixed too
        const head = loadDnaTask(task, { split, limit: 200 });
        const h1 = head.labels.reduce((a, b) => a + b, 0);
        assert.ok(h1 > 60 && h1 < 140, `${task}/${split}: ${h1} of the first 200 are positive`);
      }
      const sp = loadDnaTask("species", { split });
      assert.ok(Array.from(sp.labels).every((l, i) => l === sp.genome[i]));
      assert.equal(new Set(sp.labels).size, 10);
    }
    const sum = dnaSummary();
    console.log(`[dna] sizes: ${JSON.stringify(sum)}`);
    for (const task of DNA_TASKS)
      for (const split of SPLITS) {
        const want = DNA_TASK_INFO[task].datasetsMd[split];
        const got = sum.tasks[task][split];
        assert.ok(Math.abs(got - want) <= 0.02 * want, `${task}/${split}: ${got}, datasets.md ${want}`);
      }
    for (const split of SPLITS) assert.ok(Math.abs(sum.pretrainBases[split] - DNA_PRETRAIN_DATASETS_MD[split]) <= 0.01 * DNA_PRETRAIN_DATASETS_MD[split], `pretrain ${split}`);
    assert.throws(() => loadDnaTask("enhancer" as never), /unknown task "enhancer"/);
  });

  it("rebuilds the identical arrays from the sources (recorded digest) and reloads them from the cache", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-dna-"));
    try {
      const a = loadDnaTask("promoter", { split: "val", cacheDir: tmp }); // fresh build, digest-checked inside
      assert.equal(a.origin, "files");
      assert.ok(fs.existsSync(path.join(tmp, "manifest.json")));
      const b = loadDnaTask("promoter", { split: "val", cacheDir: tmp });
      assert.equal(b.origin, "memory");
      const ref = loadDnaTask("promoter", { split: "val" });
      assert.deepEqual(a.seqs, ref.seqs);
      assert.deepEqual(a.labels, ref.labels);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("names the fix when a source is missing or changed", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-dna-src-"));
    const saved = process.env.DYT_DATA_DIR;
    process.env.DYT_DATA_DIR = path.join(tmp, "data");
    try {
      const missing = path.join(tmp, "nowhere");
      assert.throws(
        () => loadDnaTask("coding", { sourceDir: missing }),
        (e: unknown) =>
          e instanceof DatasetFileError && e.code === "missing" && /NC_000913\.gbk\.gz is missing/.test(e.message) && /does not exist/.test(e.message) && /cct-examples/.test(e.message) && /DYT_DNA_SOURCE_DIR/.test(e.message) && /apt-get download/.test(e.message),
      );
      const bad = path.join(tmp, "bad");
      const f = path.join(bad, DNA_SOURCE_FILES.ecoli.path);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, "not a genome");
      assert.throws(
        () => loadDnaTask("coding", { sourceDir: bad }),
        (e: unknown) => e instanceof DatasetFileError && e.code === "corrupt" && /corrupt or another version/.test(e.message) && /1:1\.0\.3-1/.test(e.message),
      );
    } finally {
      if (saved === undefined) delete process.env.DYT_DATA_DIR;
      else process.env.DYT_DATA_DIR = saved;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("fftConv (causal long convolution by FFT)", () => {
  for (const engine of ["cpu", "native"] as const) {
    it(`equals the direct O(L^2) convolution and its gradients match finite differences (${engine})`, async () => {
      await useEngine(engine);
      const rng = new Rng(1);
      for (const [B, L, C, Lh] of [
        [2, 7, 3, 7],
        [1, 16, 4, 5],
        [3, 33, 5, 33],
      ] as const) {
        const x = rand(rng, B * L * C);
        const h = rand(rng, Lh * C);
        const ref = directCausalConv(x, h, B, L, C, Lh);
        assertClose(fftConvForward(x, h, B, L, C, Lh), ref, 1e-5, 1e-5, `host [${B},${L},${C}] * [${Lh}]`);
        const y = tf.tidy(() => fftConv(tf.tensor3d(x, [B, L, C]), tf.tensor2d(h, [Lh, C])).dataSync());
        assertClose(y, ref, 1e-5, 1e-5, `op [${B},${L},${C}] * [${Lh}]`);
      }
      const w = rand(rng, 2 * 6 * 3);
      gradCheck(([x, h]) => tf.sum(tf.mul(fftConv(x!, h!), tf.tensor3d(w, [2, 6, 3]))), [
        { data: rand(rng, 36), shape: [2, 6, 3] },
        { data: rand(rng, 12), shape: [4, 3] },
      ]);
      assert.throws(() => fftConv(tf.zeros([1, 4, 2]), tf.zeros([5, 2])), /filter length 5 exceeds the sequence length 4/);
    });
  }

  const nativeReason = nativeLoadError();
  it("on the native engine runs the addon's kernels, and its gradients equal the host's (odd batch, filter shorter than L)", { skip: nativeReason ? `native engine unavailable: ${nativeReason}` : false }, async () => {
    await useEngine("native");
    const rng = new Rng(5);
    // The addon transforms 8 channels at a time: a partial block (5), a full
    // one (8), one and a tail (13); one row (no pair); Lh = 1, where the
    // forward's padded length is L itself (no zero upper half).
    for (const [B, L, C, Lh] of [
      [3, 33, 5, 20],
      [16, 256, 8, 256],
      [1, 16, 13, 16],
      [2, 16, 13, 1],
    ] as const) {
      const x = rand(rng, B * L * C);
      const h = rand(rng, Lh * C);
      const dy = rand(rng, B * L * C);
      const before = nativeStats.fftConv;
      const [y, dx, dh] = tf.tidy(() => {
        const xt = tf.tensor3d(x, [B, L, C]);
        const ht = tf.tensor2d(h, [Lh, C]);
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fftConv(a, b), tf.tensor3d(dy, [B, L, C])));
        const g = tf.grads(f)([xt, ht]);
        return [fftConv(xt, ht).dataSync(), g[0]!.dataSync(), g[1]!.dataSync()];
      });
      assert.ok(nativeStats.fftConv - before >= 3, "forward (twice) and backward ran in the addon");
      const host = fftConvBackward(x, h, dy, B, L, C, Lh);
      const tol = L > 100 ? 1e-4 : 1e-5;
      assertClose(y, fftConvForward(x, h, B, L, C, Lh), tol, tol, `y [${B},${L},${C}] * [${Lh}]`);
      assertClose(dx, host.dx, tol, tol, `dx [${B},${L},${C}] * [${Lh}]`);
      assertClose(dh, host.dh, tol, tol, `dh [${B},${L},${C}] * [${Lh}]`);
    }
  });
});

const TINY = { dim: 8, depth: 2, maxSeqLen: 32, filterOrder: 8, seed: 3 };
const tokens = (rng: Rng, B: number, T: number) => Array.from({ length: B * T }, () => rng.int(4));

describe("HyenaDNA and the Caduceus-style variant", () => {
  it("maps tokens to logits [B, T, 5] (lm) or [B, classes] (classify); LN and DyT arms come from the norm factory", async () => {
    await useEngine("cpu");
    const rng = new Rng(2);
    const ids = tf.tensor2d(tokens(rng, 2, 12), [2, 12], "int32");
    const ln = new HyenaDNA(TINY);
    const dyt = new HyenaDNA({ ...TINY, norm: "dyt", normOptions: { alpha0: 0.7 } });
    const y = ln.forward(ids);
    assert.deepEqual(y.shape, [2, 12, 5]);
    assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
    assert.deepEqual(ln.norms().map((n) => `${n.name}:${n.kind}`), ["blocks.0.norm1:layernorm", "blocks.0.norm2:layernorm", "blocks.1.norm1:layernorm", "blocks.1.norm2:layernorm", "norm:layernorm"]);
    assert.ok(dyt.norms().every((n) => n.kind === "dyt" && Math.abs(n.alpha!.dataSync()[0]! - 0.7) < 1e-7));
    // same seed: every weight that is not a norm parameter is shared between the arms
    const normNames = new Set(dyt.norms().flatMap((n) => n.params.map((p) => p.name)));
    for (const p of dyt.params.filter((q) => !normNames.has(q.name))) assert.deepEqual(ln.params.find((q) => q.name === p.name)!.variable.dataSync(), p.variable.dataSync(), p.name);
    const names = ln.params.map((p) => p.name);
    for (const n of ["embed", "blocks.0.hyena.in_proj.w", "blocks.0.hyena.short_filter.w", "blocks.0.hyena.filter.fc1.w", "blocks.0.hyena.filter.sin1", "blocks.0.hyena.filter.bias", "blocks.0.hyena.out_proj.w", "blocks.0.mlp.fc1.w", "head.w"]) assert.ok(names.includes(n), n);
    const cls = new HyenaDNA({ ...TINY, head: "classify", numClasses: 10 });
    assert.deepEqual(tf.tidy(() => cls.forward(ids).shape), [2, 10]);
    y.dispose();
    tf.dispose(ids);
    for (const m of [ln, dyt, cls]) m.dispose();
  });

  it("rejects bad configurations with the fix in the message", () => {
    assert.throws(() => resolveHyenaConfig({ filterEmbDim: 4 }), /filterEmbDim must be odd/);
    assert.throws(() => resolveHyenaConfig({ norm: "groupnorm" as never }), /unknown norm kind "groupnorm"/);
    assert.throws(() => resolveHyenaConfig({ norm: "batchnorm" }), /use layernorm, rmsnorm, dyt or identity/);
    assert.throws(() => resolveHyenaConfig({ rcEquivariant: true, vocabSize: 257 }), /needs the 5 nucleotide codes/);
    assert.throws(() => resolveHyenaConfig({ depth: 0 }), /depth must be a positive integer/);
    const m = new HyenaDNA({ ...TINY, maxSeqLen: 4 });
    assert.throws(() => m.forward(tf.zeros([1, 5], "int32")), /sequence length 5 exceeds maxSeqLen 4/);
    m.dispose();
  });

  it("is causal: changing a later base changes no earlier output (the bidirectional variant is not)", async () => {
    await useEngine("cpu");
    const T = 16;
    const base = tokens(new Rng(4), 1, T);
    for (const [name, m] of [
      ["ln", new HyenaDNA(TINY)],
      ["dyt", new HyenaDNA({ ...TINY, norm: "dyt" })],
    ] as const) {
      const out = (toks: number[]) => tf.tidy(() => Array.from(m.forward(tf.tensor2d(toks, [1, T], "int32")).dataSync()));
      const y0 = out(base);
      for (const k of [1, 8, 15]) {
        const changed = base.slice();
        changed[k] = (changed[k]! + 1) % 4;
        const y1 = out(changed);
        assertClose(y1.slice(0, k * 5), y0.slice(0, k * 5), 0, 1e-6, `${name}: logits before position ${k}`);
        assert.ok(Math.max(...y1.slice(k * 5).map((v, i) => Math.abs(v - y0[k * 5 + i]!))) > 1e-5, `${name}: position ${k} onwards depends on base ${k}`);
      }
      m.dispose();
    }
    const bi = new HyenaDNA({ ...TINY, bidirectional: true });
    const changed = base.slice();
    changed[T - 1] = (changed[T - 1]! + 1) % 4;
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(bi.forward(tf.tensor2d(base, [1, T], "int32")), bi.forward(tf.tensor2d(changed, [1, T], "int32"))).slice([0, 0, 0], [1, 1, 5]))).dataSync()[0]!);
    assert.ok(d > 1e-6, "bidirectional: the first position sees the last base");
    bi.dispose();
  });

  it("the Caduceus-style model is reverse-complement equivariant: f(RC x) = RC f(x); its classifier is RC-invariant", async () => {
    await useEngine("cpu");
    const rng = new Rng(5);
    const B = 2;
    const T = 20;
    const ids = tf.tensor2d(tokens(rng, B, T).map((t, i) => (i % 7 === 3 ? 4 : t)), [B, T], "int32");
    const rc = reverseComplementTokens(ids);
    assert.deepEqual(Array.from(rc.dataSync()).slice(0, T), Array.from(reverseComplement(ids.dataSync().slice(0, T))));
    for (const norm of ["layernorm", "dyt"] as const) {
      const m = new Caduceus({ ...TINY, norm });
      const [a, b] = tf.tidy(() => {
        const y = m.forward(ids);
        // RC of the output: reverse positions, complement the vocabulary axis (A C G T N -> T G C A N)
        const rcY = tf.reverse(tf.concat([y.slice([0, 0, 3], [B, T, 1]), y.slice([0, 0, 2], [B, T, 1]), y.slice([0, 0, 1], [B, T, 1]), y.slice([0, 0, 0], [B, T, 1]), y.slice([0, 0, 4], [B, T, 1])], 2), 1);
        return [Array.from(m.forward(rc).dataSync()), Array.from(rcY.dataSync())];
      });
      assertClose(a, b, 1e-4, 1e-5, `${norm}: f(RC x) vs RC f(x)`);
      m.dispose();
      const c = new Caduceus({ ...TINY, norm, head: "classify", numClasses: 3 });
      assertClose(tf.tidy(() => c.forward(rc).dataSync()), tf.tidy(() => c.forward(ids).dataSync()), 1e-4, 1e-5, `${norm}: classifier RC-invariant`);
      c.dispose();
    }
    // the plain decoder is not equivariant (the test can fail)
    const p = new HyenaDNA(TINY);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(p.forward(rc), tf.reverse(p.forward(ids), 1)))).dataSync()[0]!);
    assert.ok(diff > 1e-4);
    p.dispose();
    tf.dispose([ids, rc]);
  });

  it("a whole DyT block's gradient matches finite differences (input, projections, short conv, implicit filter, D)", async () => {
    await useEngine("cpu");
    const c = resolveHyenaConfig({ dim: 4, depth: 1, maxSeqLen: 6, filterOrder: 4, norm: "dyt", initStd: 0.5, seed: 7 });
    const store = new ParamStore(new Rng(7));
    const block = new HyenaBlock(store, c);
    const rng = new Rng(8);
    const w = tf.tensor3d(rand(rng, 2 * 6 * 4), [2, 6, 4]);
    gradCheck(([x]) => tf.sum(tf.mul(block.forward(x!), w)), [{ data: rand(rng, 48), shape: [2, 6, 4] }], 1e-2, 5e-3);
    const x = tf.tensor3d(rand(rng, 48), [2, 6, 4]);
    const loss = () => tf.sum(tf.mul(block.forward(x), w)) as tf.Scalar;
    for (const name of ["hyena.in_proj.w", "hyena.short_filter.w", "hyena.filter.fc1.w", "hyena.filter.fc3.w", "hyena.filter.sin1", "hyena.filter.bias", "hyena.out_proj.w", "norm1.alpha"]) {
      const v = store.params.find((p) => p.name === name)!.variable;
      const analytic = tf.tidy(() => Array.from(tf.variableGrads(loss, [v]).grads[v.name]!.dataSync()));
      const w0 = Array.from(v.dataSync());
      for (let j = 0; j < Math.min(w0.length, 12); j++) {
        const at = (d: number) => {
          const ww = w0.slice();
          ww[j]! += d;
          v.assign(tf.tensor(ww, v.shape));
          return tf.tidy(() => loss().dataSync()[0]!);
        };
        const num = (at(1e-2) - at(-1e-2)) / 2e-2;
        assert.ok(Math.abs(analytic[j]! - num) <= 5e-3 * Math.max(1, Math.abs(num)), `${name}[${j}]: analytic ${analytic[j]}, finite difference ${num}`);
      }
      v.assign(tf.tensor(w0, v.shape));
    }
    tf.dispose([w, x]);
    for (const p of store.params) p.variable.dispose();
  });

  it("on the native engine (FFT and depthwise short-conv kernels) a DyT block's output and gradients equal the cpu engine's", { skip: nativeLoadError() ? `native engine unavailable: ${nativeLoadError()}` : false }, async () => {
    const c = resolveHyenaConfig({ dim: 8, depth: 1, maxSeqLen: 40, filterOrder: 8, norm: "dyt", initStd: 0.3, seed: 9 });
    const rng = new Rng(10);
    const xs = rand(rng, 3 * 40 * 8);
    const ws = rand(rng, 3 * 40 * 8);
    const run = async (engine: "cpu" | "native") => {
      await useEngine(engine);
      const store = new ParamStore(new Rng(9));
      const block = new HyenaBlock(store, c);
      const x = tf.tensor3d(xs, [3, 40, 8]);
      const w = tf.tensor3d(ws, [3, 40, 8]);
      const before = nativeStats.depthwise;
      const out = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(block.forward(x), w)) as tf.Scalar, store.params.map((p) => p.variable));
        return { y: value.dataSync()[0]!, g: store.params.map((p) => Array.from(grads[p.variable.name]!.dataSync())), dw: nativeStats.depthwise - before };
      });
      tf.dispose([x, w]);
      for (const p of store.params) p.variable.dispose();
      return out;
    };
    const cpu = await run("cpu");
    const nat = await run("native");
    assert.ok(nat.dw >= 3, "the short conv ran on the native depthwise kernels (forward, input and filter gradients)");
    assert.ok(Math.abs(nat.y - cpu.y) <= 1e-4 * Math.max(1, Math.abs(cpu.y)), `loss native ${nat.y} vs cpu ${cpu.y}`);
    cpu.g.forEach((g, i) => assertClose(nat.g[i]!, g, 1e-3, 1e-4, `gradient ${i}`));
  });

  it("learns next-nucleotide prediction on the genomes in a few steps and leaks no tensors", async () => {
    await initEngine({ quiet: true });
    const trainSet = loadDnaPretrain({ split: "train", maxBasesPerGenome: 20_000 });
    const valSet = loadDnaPretrain({ split: "val", maxBasesPerGenome: 2_000 });
    const task = dnaNextTokenTask(trainSet, valSet, { seqLen: 32 });
    assert.equal(task.trainSize, 10 * Math.floor((20_000 - 1) / 32));
    const m = new HyenaDNA({ ...TINY, dim: 16, norm: "dyt" });
    const before = tf.memory().numTensors;
    const r = await train(m, task, { steps: 12, batchSize: 8, lr: 1e-2, warmupSteps: 2, evalEvery: 12, evalLimit: 16, evalBatchSize: 8, logEvery: 1, checkpointEvery: 0, seed: 1 }, { progress: false });
    m.dispose();
    assert.equal(tf.memory().numTensors, before - m.params.length, "train() leaves no tensors behind");
    assert.equal(r.status, "completed");
    const l = r.log.map((e) => e.loss);
    assert.ok(Math.abs(l[0]! - Math.log(5)) < 0.15, `initial loss ${l[0]} near ln 5`);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(mean(l.slice(-3)) < l[0]! - 0.1, `loss falls: ${l.map((v) => v.toFixed(3)).join(", ")}`);
    assert.ok(r.final!.bpb! < Math.log2(5), `held-out ${r.final!.bpb} bits per base`);
  });
});
