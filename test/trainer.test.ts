import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { ViT } from "../lib/models";
import { alphaTraceHook, captureNorms } from "../lib/hooks";
import { train, lrAt, type TrainConfig, type TrainHook } from "../lib/train";
import { initEngine } from "../lib/engine";
import { TOY_VIT, toyImages } from "./fixtures";

const data = { train: toyImages(256, 1), eval: toyImages(64, 2, "val") };
const cfg: Partial<TrainConfig> = { steps: 12, batchSize: 16, lr: 3e-3, warmupSteps: 2, evalEvery: 6, evalLimit: 64, evalBatchSize: 32, logEvery: 1, checkpointEvery: 4, seed: 5 };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "dyt-train-"));
const losses = (log: { loss: number }[]) => log.map((l) => l.loss);

describe("trainer", () => {
  before(() => initEngine({ quiet: true })); // the default engine: what users train on

  it("learns the toy task and writes metrics, checkpoint and result", async () => {
    const dir = tmp();
    const m = new ViT({ ...TOY_VIT, norm: "layernorm", seed: 1 });
    const r = await train(m, data, { ...cfg, steps: 60, evalEvery: 60 }, { runDir: dir, progress: false });
    assert.equal(r.status, "completed");
    assert.ok(r.final!.acc > 0.9, `toy accuracy ${r.final!.acc} should exceed 0.9 after 60 steps (chance 0.25)`);
    assert.ok(r.log.at(-1)!.loss < r.log[0]!.loss);
    const lines = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.alpha === undefined)); // no hook given: no alpha
    assert.ok(fs.existsSync(path.join(dir, "checkpoint", "checkpoint.json")));
    assert.ok(fs.existsSync(path.join(dir, "train-result.json")));
    m.dispose();
  });

  it("is deterministic for a seed, and resumes exactly after an interruption", async () => {
    const full = new ViT({ ...TOY_VIT, norm: "dyt", seed: 3 });
    const a = await train(full, data, cfg, { runDir: tmp(), progress: false });
    full.dispose();

    const dir = tmp();
    const m1 = new ViT({ ...TOY_VIT, norm: "dyt", seed: 3 });
    const part = await train(m1, data, cfg, { runDir: dir, progress: false, stopAfter: 7 });
    m1.dispose();
    assert.equal(part.status, "interrupted");
    // A fresh process would build a fresh model; its init is overwritten by the checkpoint (step 4).
    const m2 = new ViT({ ...TOY_VIT, norm: "dyt", seed: 99 });
    const b = await train(m2, data, cfg, { runDir: dir, progress: false });
    m2.dispose();
    assert.equal(b.status, "completed");
    assert.deepEqual(losses(b.log), losses(a.log), "loss curve after resume equals the uninterrupted one");
    assert.deepEqual(b.evals, a.evals);
    const metrics = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const steps = metrics.filter((l) => l.loss !== undefined).map((l) => l.step);
    assert.deepEqual(steps, [...Array(12).keys()], "metrics.jsonl has each step once after resume");

    const again = new ViT({ ...TOY_VIT, norm: "dyt", seed: 3 });
    const c = await train(again, data, cfg, { progress: false });
    again.dispose();
    assert.deepEqual(losses(c.log), losses(a.log), "same seed, same engine: same losses");
  });

  it("AGC is plumbed in exactly: a huge lambda clips nothing (same losses as no AGC), a small one changes the run", async () => {
    const run = async (agc: number) => {
      const m = new ViT({ ...TOY_VIT, norm: "identity", method: "nf", seed: 6 });
      const r = await train(m, data, { ...cfg, checkpointEvery: 0, agc }, { progress: false });
      m.dispose();
      return losses(r.log);
    };
    const none = await run(0);
    assert.deepEqual(await run(1e6), none);
    assert.notDeepEqual(await run(1e-3), none);
  });

  it("records divergence with its step instead of crashing", async () => {
    const dir = tmp();
    const m = new ViT({ ...TOY_VIT, norm: "identity", seed: 1 });
    const r = await train(m, data, { ...cfg, lr: 50, warmupSteps: 0, clipNorm: 0, steps: 40 }, { runDir: dir, progress: false });
    m.dispose();
    assert.equal(r.status, "diverged");
    assert.ok(r.diverged && r.diverged.step >= 0 && r.diverged.step < 40, JSON.stringify(r.diverged));
    assert.match(r.diverged!.reason, /non-finite|loss .* >/);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "train-result.json"), "utf8"));
    assert.equal(saved.status, "diverged");
    assert.equal(saved.diverged.step, r.diverged!.step);
  });

  it("keeps the live tensor count flat across 20 steps (no leak), hooks included", async () => {
    const m = new ViT({ ...TOY_VIT, norm: "dyt", seed: 2 });
    const counts: number[] = [];
    const probe: TrainHook = { name: "count", onLog: () => void counts.push(tf.memory().numTensors) };
    const before = tf.memory().numTensors;
    await train(m, data, { ...cfg, steps: 20, evalEvery: 5, checkpointEvery: 5 }, { progress: false, hooks: [alphaTraceHook(), probe] });
    assert.equal(counts.length, 20);
    assert.ok(counts.slice(2).every((c) => c === counts[2]), `tensor counts per step: ${counts.join(",")}`);
    assert.equal(tf.memory().numTensors, before, "optimizer state released after training");
    m.dispose();
  });

  it("hooks only observe: same losses with and without capture", async () => {
    const capture: TrainHook = {
      name: "capture",
      onLog: (_s, model) => {
        const x = tf.tensor4d(data.eval.images.slice(0, 8 * 64), [8, 8, 8, 1]);
        const caps = captureNorms(model, x, { maxRows: 16 });
        x.dispose();
        return { captured: caps.length };
      },
    };
    const run = async (hooks: TrainHook[]) => {
      const m = new ViT({ ...TOY_VIT, norm: "dyt", seed: 4 });
      const r = await train(m, data, cfg, { progress: false, hooks });
      m.dispose();
      return r;
    };
    const plain = await run([]);
    const hooked = await run([alphaTraceHook(), capture]);
    assert.deepEqual(losses(hooked.log), losses(plain.log));
    assert.equal(hooked.log[0]!.captured, 5, "2 blocks x 2 norms + final norm captured");
    const alphas = hooked.log.map((l) => (l.alpha as Record<string, number>)["blocks.0.norm1"]);
    assert.equal(alphas.length, 12);
    assert.notEqual(alphas[0], alphas[11], "alpha is learned");
  });

  it("schedule: linear warmup then cosine to the floor", () => {
    const c = { lr: 1, warmupSteps: 10, steps: 110, minLrRatio: 0.1 };
    assert.equal(lrAt(0, c), 0.1);
    assert.equal(lrAt(9, c), 1);
    assert.ok(Math.abs(lrAt(60, c) - 0.55) < 1e-12);
    assert.ok(Math.abs(lrAt(110, c) - 0.1) < 1e-12);
  });

  it("rejects bad training configs with the field name", async () => {
    const m = new ViT({ ...TOY_VIT, seed: 1 });
    await assert.rejects(train(m, data, { steps: 0 }, { progress: false }), /steps must be a positive integer/);
    await assert.rejects(train(m, data, { lr: -1 }, { progress: false }), /lr must be a positive number/);
    m.dispose();
  });
});
