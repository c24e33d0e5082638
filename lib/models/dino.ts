import * as tf from "@tensorflow/tfjs";
import { MULTICROP_DEFAULTS, validateMultiCrop, type MultiCropConfig } from "../data/multicrop";
import { gelu } from "../ops/activations";
import { ParamStore, countParams, disposeParams, newVariable, type Param } from "../ops/param";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Rng } from "../util/rng";
import { Linear } from "./linear";
import type { ForwardOptions } from "./transformer";
import { ViT, resolveViTConfig, type ViTConfig } from "./vit";
import { checkPosInt } from "./vision-common";

/** DINO self-distillation (Caron et al. 2021) around the lab's ViT. */
export interface DINOConfig {
  /** The backbone of student and teacher: the lab's ViT (its norm and options are overridden by `norm` / `normOptions`). */
  backbone: Partial<ViTConfig>;
  /** Every norm slot of the backbone, from the one factory (DINO's head has none: its use_bn is off by default). */
  norm: NormKind;
  normOptions: NormOptions;
  /** The projection head: a 3-layer GELU MLP to a bottleneck, L2-normalised, then a weight-normalised layer to outDim prototypes (DINO: 2048, 256, 65536). */
  headHidden: number;
  headBottleneck: number;
  outDim: number;
  /** Softmax temperatures: student 0.1, teacher 0.04 (DINO's defaults; its teacher warm-up to 0.07 is for 100+ epochs). */
  studentTemp: number;
  teacherTemp: number;
  /** EMA rate of the centre of the teacher's outputs (DINO 0.9). */
  centerMomentum: number;
  /** Teacher EMA rate at step 0, raised to 1 by a cosine over the run (DINO 0.996). */
  teacherMomentum: number;
  crops: MultiCropConfig;
  seed: number;
}

export const DINO_DEFAULTS: DINOConfig = {
  backbone: { imageSize: 28, channels: 1, patchSize: 4, dim: 64, depth: 4, heads: 4 },
  norm: "layernorm",
  normOptions: {},
  headHidden: 256,
  headBottleneck: 64,
  outDim: 1024,
  studentTemp: 0.1,
  teacherTemp: 0.04,
  centerMomentum: 0.9,
  teacherMomentum: 0.996,
  crops: MULTICROP_DEFAULTS,
  seed: 0,
};

export function dinoBackboneConfig(c: DINOConfig): ViTConfig {
  return resolveViTConfig({ ...c.backbone, norm: c.norm, normOptions: { ...c.backbone.normOptions, ...c.normOptions }, seed: c.seed });
}

/** Fill defaults and reject impossible configurations with a message that says what to change. */
export function resolveDINOConfig(partial: Partial<DINOConfig> = {}): DINOConfig {
  const c: DINOConfig = { ...DINO_DEFAULTS, ...partial, backbone: { ...DINO_DEFAULTS.backbone, ...partial.backbone }, normOptions: { ...partial.normOptions }, crops: { ...DINO_DEFAULTS.crops, ...partial.crops } };
  const b = dinoBackboneConfig(c);
  if (b.method !== "norm" || b.placement !== "pre") throw new Error(`DINO config: the backbone must be a pre-norm ViT (method "norm", placement "pre"), got method "${b.method}", placement "${b.placement}"`);
  if (c.norm === "batchnorm") throw new Error(`DINO config: norm "batchnorm" does not fit a token slot; use layernorm, rmsnorm, dyt or identity`);
  for (const k of ["headHidden", "headBottleneck", "outDim"] as const) checkPosInt("DINO", k, c[k]);
  for (const k of ["studentTemp", "teacherTemp"] as const) if (!(c[k] > 0)) throw new Error(`DINO config: ${k} must be > 0, got ${c[k]}`);
  for (const k of ["centerMomentum", "teacherMomentum"] as const) if (!(c[k] >= 0 && c[k] < 1)) throw new Error(`DINO config: ${k} must be in [0, 1), got ${c[k]}`);
  validateMultiCrop(c.crops, b.imageSize, b.patchSize);
  return c;
}

/**
 * DINO's projection head: Linear-GELU-Linear-GELU-Linear to the bottleneck
 * (trunc-normal 0.02, zero bias, as DINO), L2-normalised, then a
 * weight-normalised Linear without bias to the prototypes (norm_last_layer:
 * each prototype column divided by its norm, the gain fixed at 1; PyTorch's
 * default init of its direction).
 */
export class DINOHead {
  readonly layers: Linear[];
  readonly last: tf.Variable;
  constructor(store: ParamStore, inDim: number, c: Pick<DINOConfig, "headHidden" | "headBottleneck" | "outDim">) {
    const dims = [inDim, c.headHidden, c.headHidden, c.headBottleneck];
    this.layers = [0, 1, 2].map((i) => new Linear(store, `mlp.${i}`, dims[i]!, dims[i + 1]!, { kind: "truncNormal", std: 0.02 }));
    this.last = store.uniform("last_layer.v", [c.headBottleneck, c.outDim], 1 / Math.sqrt(c.headBottleneck));
  }

  /** [B, inDim] -> prototype scores [B, outDim]. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach((l, i) => {
        h = l.apply(h);
        if (i < 2) h = gelu(h);
      });
      return prototypeScores(h, this.last);
    });
  }
}

/** The head's last step: h [B, d] L2-normalised per row, times v [d, K] with each column divided by its norm (cosines to the prototypes). */
export function prototypeScores(h: tf.Tensor, v: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.matMul(tf.div(h, tf.maximum(tf.norm(h, 2, -1, true), 1e-12)), tf.div(v, tf.norm(v, 2, 0, true))));
}

/** Mean per-row entropy and the entropy of the mean row of probabilities [n, K] (nats): DINO's collapse check. */
export function outputEntropies(probs: tf.Tensor2D): { perSample: number; marginal: number } {
  return tf.tidy(() => {
    const h = (p: tf.Tensor) => tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30))), -1));
    return { perSample: tf.mean(h(probs)).dataSync()[0]!, marginal: h(tf.mean(probs, 0)).dataSync()[0]! };
  });
}

/**
 * DINO's loss: the cross-entropy from each teacher view's sharpened,
 * centred distribution softmax((t - center) / teacherTemp) to the student's
 * log_softmax(s / studentTemp) on every other view, averaged over the pairs
 * and the batch. student: logits per view [B, K] (the two global views
 * first); teacher: the two global views' logits.
 */
export function dinoLoss(student: readonly tf.Tensor[], teacher: readonly tf.Tensor[], center: tf.Tensor, studentTemp: number, teacherTemp: number): tf.Scalar {
  return tf.tidy(() => {
    const t = teacher.map((x) => tf.softmax(tf.div(tf.sub(x, center), teacherTemp)));
    const s = student.map((x) => tf.logSoftmax(tf.div(x, studentTemp)));
    const terms: tf.Tensor[] = [];
    t.forEach((tq, iq) => s.forEach((sv, v) => v !== iq && terms.push(tf.mean(tf.sum(tf.mul(tf.neg(tq), sv), -1)))));
    if (terms.length === 0) throw new Error("dinoLoss: needs at least two views (a teacher view and another student view)");
    return tf.div(tf.addN(terms), terms.length) as tf.Scalar;
  });
}

/** The views of a batch as tensors: the two global views stacked [2B, s, s, C], the local ones [L*B, l, l, C] (none: undefined). */
export interface DinoViews {
  globals: tf.Tensor4D;
  locals?: tf.Tensor4D;
}

/**
 * DINO: a student (the lab's ViT backbone, its class token, and a projection
 * head) trained to match a teacher of the same architecture, an EMA of the
 * student, across augmented views (lib/data/multicrop.ts). The teacher
 * sees the two global views, the student every view; the teacher's outputs
 * are centred (an EMA of their batch mean) and sharpened. Parameters:
 * student.* (trained), teacher.* and center (buffers, not trained, in
 * `params` so checkpoints keep them and a resumed run continues exactly).
 * k-NN and linear-probe evaluations read the teacher's backbone, as DINO's.
 */
export class DINO {
  readonly config: DINOConfig;
  readonly student: ViT;
  readonly teacher: ViT;
  readonly studentHead: DINOHead;
  readonly teacherHead: DINOHead;
  readonly center: tf.Variable;
  readonly params: Param[];
  /** student.* and teacher.* in the same order: the pairs the EMA updates. */
  readonly studentParams: Param[];
  readonly teacherParams: Param[];
  private readonly headParams: Param[];

  constructor(config: Partial<DINOConfig> = {}) {
    const c = resolveDINOConfig(config);
    this.config = c;
    const bc = dinoBackboneConfig(c);
    this.student = new ViT(bc);
    this.teacher = new ViT(bc);
    // The head draws from its own stream, so the backbone's init equals a plain ViT's of the same seed.
    const headStore = (scope: string) => new ParamStore(new Rng((c.seed ^ 0xd1a0000) >>> 0)).scope(scope);
    const ss = headStore("head");
    const ts = headStore("head");
    this.studentHead = new DINOHead(ss, bc.dim, c);
    this.teacherHead = new DINOHead(ts, bc.dim, c);
    this.headParams = [...ss.params, ...ts.params];
    const own = (vit: ViT, head: Param[], who: string): Param[] => [
      // The ViT's classification head is not part of DINO.
      ...vit.params.filter((p) => !p.name.startsWith("head.")).map((p) => ({ ...p, name: `${who}.backbone.${p.name}` })),
      ...head.map((p) => ({ ...p, name: `${who}.${p.name}` })),
    ];
    this.studentParams = own(this.student, ss.params, "student");
    this.teacherParams = own(this.teacher, ts.params, "teacher");
    // The teacher starts as a copy of the student (DINO loads the student's state dict).
    this.teacherParams.forEach((p, i) => {
      tf.tidy(() => p.variable.assign(this.studentParams[i]!.variable));
      p.variable.trainable = false;
    });
    for (const p of this.student.params) if (p.name.startsWith("head.")) p.variable.trainable = false;
    this.center = newVariable(tf.zeros([1, c.outDim]), false, `dino_center_${centerUid++}`);
    this.params = [...this.studentParams, ...this.teacherParams, { name: "center", variable: this.center, decay: false }];
  }

  /** The student's norms (what DyT's alpha hooks trace), in forward order. */
  norms(): Norm[] {
    return this.student.norms();
  }

  /** Trained parameters (student backbone and head). */
  parameterCount(): number {
    return countParams(this.studentParams);
  }

  /** Backbone features [B, dim] (the class token after the final norm) of the teacher (default) or the student, on full-size images. */
  features(images: tf.Tensor, who: "teacher" | "student" = "teacher", opts?: ForwardOptions): tf.Tensor {
    return (who === "teacher" ? this.teacher : this.student).features(images, opts);
  }

  /** Prototype scores of the student for every view: the global views' [2B, K], then the local views' [L*B, K]. */
  studentOutputs(v: DinoViews, opts?: ForwardOptions): tf.Tensor[] {
    return tf.tidy(() => {
      const g = this.studentHead.apply(this.student.features(v.globals, opts));
      return v.locals ? [g, this.studentHead.apply(this.student.featuresAt(v.locals, opts))] : [g];
    });
  }

  /** The teacher's prototype scores [2B, K] of the global views. */
  teacherOutputs(v: DinoViews, opts?: ForwardOptions): tf.Tensor {
    return tf.tidy(() => this.teacherHead.apply(this.teacher.features(v.globals, opts)));
  }

  /**
   * DINO's loss on a batch's views (B images). With updateCenter, the centre
   * then moves toward the teacher outputs' batch mean (DINO updates it after
   * the loss, in the same step).
   */
  loss(v: DinoViews, opts?: ForwardOptions & { updateCenter?: boolean }): tf.Scalar {
    return tf.tidy(() => this.lossAndTeacher(v, opts).loss);
  }

  /** loss(), and the teacher's outputs [2B, K] it used (held-out entropies read them without a second teacher pass). */
  lossAndTeacher(v: DinoViews, opts?: ForwardOptions & { updateCenter?: boolean }): { loss: tf.Scalar; teacher: tf.Tensor } {
    const c = this.config;
    return tf.tidy(() => {
      const B = v.globals.shape[0]! / 2;
      const [g, l] = this.studentOutputs(v, opts);
      // tf.split's gradient fails for a single piece (tfjs 4.22 passes its one dy as no list): keep one view whole.
      const split = (x: tf.Tensor | undefined) => (!x ? [] : x.shape[0] === B ? [x] : tf.split(x, x.shape[0]! / B, 0));
      const t = this.teacherOutputs(v, opts);
      const loss = dinoLoss([...split(g), ...split(l)], split(t), this.center, c.studentTemp, c.teacherTemp);
      if (opts?.updateCenter) this.center.assign(tf.add(tf.mul(this.center, c.centerMomentum), tf.mul(tf.mean(t, 0, true), 1 - c.centerMomentum)));
      return { loss, teacher: t };
    });
  }

  /** The teacher's EMA rate at `step` of `steps`: DINO's cosine from teacherMomentum to 1. */
  teacherMomentumAt(step: number, steps: number): number {
    const m0 = this.config.teacherMomentum;
    return 1 - ((1 - m0) * (Math.cos((Math.PI * step) / Math.max(1, steps)) + 1)) / 2;
  }

  /** teacher <- m teacher + (1 - m) student, parameter by parameter. */
  updateTeacher(m: number): void {
    this.teacherParams.forEach((t, i) => tf.tidy(() => t.variable.assign(tf.add(tf.mul(t.variable, m), tf.mul(this.studentParams[i]!.variable, 1 - m)))));
  }

  /** A DINO is trained through dinoTask's objective; its features come from features(): it has no forward of its own. */
  forward(_x: tf.Tensor, _opts?: ForwardOptions): tf.Tensor {
    throw new Error("DINO.forward: DINO has no classifier; train it with dinoTask (lib/train/dino-task.ts) and read dino.features(images) (the teacher's class token) for k-NN or a probe");
  }

  dispose(): void {
    this.student.dispose();
    this.teacher.dispose();
    disposeParams(this.headParams);
    this.center.dispose();
  }
}

let centerUid = 0;
