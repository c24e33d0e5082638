#!/usr/bin/python3
"""PyTorch CPU reference for `npm run bench`: the same training step as the
tfjs bench (scripts/bench.ts), timed the same way.

Model (same math as lib/models/vit.ts): pre-norm ViT on 28x28x1 images,
patch 4 (49 patches + class token = 50 tokens), width 64, 4 heads, MLP ratio
4 with exact GELU, 4 blocks, final norm on the class token, linear head to 10
classes; softmax cross-entropy; AdamW (decay 0.05 on weight matrices only).
Norm: LayerNorm (eps 1e-6) or DyT (gamma * tanh(alpha x) + beta, alpha0 0.5).

--model llama: the LLaMA-style LM of lib/models/llama.ts (scripts/bench.ts
--model llama passes every size): token embedding (times a learnable scalar,
init sqrt(d), with --embed-scale), pre-norm blocks of causal attention with
RoPE (theta 10000, half-split pairs as lib/models/rope.ts, on q and k per
head) and a SwiGLU MLP of width 8d/3 rounded up to a multiple of 8 (as
llamaFfnHidden), no biases, a final norm, an untied head; next-token softmax
cross-entropy; AdamW (decay on the weight matrices only). Norm: RMSNorm
(gamma, eps 1e-6) or DyT without beta (gamma * tanh(alpha x), alpha0 per
slot from --alpha0 attn,ffn,final). The JSON line also carries "params" (the
bench stops when it differs from the lab's count) and "attention" (how
causal attention ran: "sdpa" with torch >= 2, else "explicit" masked
softmax). --params-only prints {"params": n} and times nothing.

--model convnext: the ConvNeXt of lib/models/convnext.ts (scripts/bench.ts
--model convnext passes every size): a p x p stride-p stem convolution and a
channels-first norm; stages of blocks (7x7 depthwise convolution, a
channels-last norm, Linear to 4d, exact GELU, Linear back, layer scale,
residual), each later stage opened by a channels-first norm and a 2x2
stride-2 convolution; global average pool, a norm, a linear head; softmax
cross-entropy; AdamW (decay on convolution kernels and weight matrices only).
Norm: LayerNorm (eps --eps) or DyT (gamma, beta, alpha0 --alpha0), in both
layouts as ConvNeXt places them. "params" as for llama.

--model dit: the class-conditional DiT of lib/models/dit.ts (sizes passed by
scripts/bench.ts --model dit): patchify + Linear, fixed 2-D sin-cos
positions, conditioning c = MLP(sinusoid(t)) + class embedding, blocks with
adaLN modulation (shift, scale, gate for attention and MLP from
Linear(SiLU(c))), a final adaLN-modulated norm and Linear, unpatchified to the
noise prediction; norms without affine (LayerNorm eps --eps, or DyT
tanh(alpha x), alpha0 --alpha0); --ada-ln-zero zeroes the modulation and
output Linears (DiT's init) instead of Xavier. Loss: the DDPM eps-prediction
MSE at a uniform timestep of a linear beta schedule, on a fixed noised batch;
AdamW (decay --weight-decay on the weight matrices).

--model hyena: the HyenaDNA-style decoder of lib/models/hyena.ts (sizes passed
by scripts/bench.ts --model hyena): nucleotide embedding, pre-norm blocks
h = x + Hyena(N1 x), y = h + MLP(N2 h) (exact GELU), a final norm and an
untied head without bias; next-nucleotide softmax cross-entropy; AdamW (decay
on the embedding, the projections, the short conv and filter-MLP kernels,
the MLP and the head). The Hyena operator of order 2 as HyenaDNA computes it:
in_proj to 3d, a causal depthwise Conv1d of --short-filter taps, split into
x0, x1, v; v = v * x1; the implicit long filter (Linear-Sin-Linear-Sin-Linear
over Hyena's positional features, learnable Sin frequencies, times the
exponential decay window) applied by FFT (torch.fft.rfft / irfft at 2L, as
HyenaDNA's fftconv) plus the per-channel skip D; out_proj(v * x0). Norm:
LayerNorm (eps --eps) or DyT (alpha0 --alpha0). "params" as for llama.

--model wav2vec: the small wav2vec 2.0 of lib/models/wav2vec.ts (sizes passed
by scripts/bench.ts --model wav2vec): waves [B, L] through strided Conv1d
layers without bias, each followed by a per-step norm over channels
(--conv-norm) and exact GELU; the feature norm; post_extract_proj; a learned
mask embedding substituted at the masked steps; x + GELU(grouped positional
conv), weight-normed over the kernel axis (g per tap, weight_norm(dim=2)),
"same" padding floor(K/2) left and K - 1 - floor(K/2) right; pre-norm blocks
(as the ViT's: q|k|v, output, GELU MLP, with biases); the encoder norm;
final_proj at the masked steps. Targets: the Gumbel product quantizer on the
masked steps' normed features (weight_proj, codewords [G, V, d/G], a hard
straight-through Gumbel-softmax at --gumbel-temp, perplexity of the
batch-averaged softmax), then project_q. Loss: cosine similarity / --logit-temp
of each masked step's context with its target and K distractors (other masked
steps of its window; identical distractors get -1e9), cross-entropy with the
target first, plus --diversity-weight x (G V - perplexity) / (G V). The lab's
draw fixes M (--masked) and K (--negatives); which steps are masked, the
distractors and the Gumbel noise are drawn here once, with torch's seed.
AdamW (decay --weight-decay on conv kernels, the positional conv's v and the
weight matrices).

Run with Debian's interpreter (/usr/bin/python3, python3-torch). Prints one
JSON line: {"msPerStep": median, "steps": [...], "cpuSteps": [process CPU ms
per step, all threads], "threads": n, ...}.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DyT(nn.Module):
    def __init__(self, dim, alpha0=0.5, bias=True, weight=True, channels_first=False):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), alpha0))
        # DiT's norms have no affine (weight=False, bias=False): tanh(alpha x) alone.
        self.weight = nn.Parameter(torch.ones(dim)) if weight else None
        # The DyT LLaMA recipe drops beta (LLaMA's norms have none).
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None
        # ConvNeXt's stem / downsampling norms act on [B, C, H, W] (per pixel, over C).
        self.channels_first = channels_first

    def forward(self, x):
        y = torch.tanh(self.alpha * x)
        if self.channels_first:
            if self.weight is not None:
                y = self.weight[:, None, None] * y
            return y if self.bias is None else y + self.bias[:, None, None]
        if self.weight is not None:
            y = self.weight * y
        return y if self.bias is None else y + self.bias


class LayerNormChannelsFirst(nn.Module):
    """ConvNeXt's LayerNorm(data_format="channels_first"): per pixel over C of [B, C, H, W]."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


def make_norm(kind, dim, alpha0=0.5, bias=True, weight=True, eps=1e-6, channels_first=False):
    if kind == "layernorm":
        if channels_first:
            return LayerNormChannelsFirst(dim, eps)
        if weight != bias:
            raise ValueError("layernorm: weight and bias go together (elementwise_affine)")
        return nn.LayerNorm(dim, eps=eps, elementwise_affine=weight)
    if kind == "dyt":
        return DyT(dim, alpha0, bias, weight, channels_first)
    if kind == "rmsnorm":
        return RMSNorm(dim)
    if kind == "identity":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind}")


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, norm, alpha0=0.5, eps=1e-6):
        super().__init__()
        self.heads = heads
        self.n1 = make_norm(norm, dim, alpha0, eps=eps)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.n2 = make_norm(norm, dim, alpha0, eps=eps)
        self.fc1 = nn.Linear(dim, int(round(dim * mlp_ratio)))
        self.fc2 = nn.Linear(int(round(dim * mlp_ratio)), dim)

    def attention(self, x):
        B, T, D = x.shape
        H = self.heads
        dh = D // H
        qkv = self.qkv(x).reshape(B, T, 3, H, dh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = torch.softmax((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh)), dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(B, T, D)
        return self.proj(out)

    def mlp(self, x):
        return self.fc2(F.gelu(self.fc1(x)))

    def forward(self, x):
        h = x + self.attention(self.n1(x))
        return h + self.mlp(self.n2(h))


class ViT(nn.Module):
    def __init__(self, norm, image=28, channels=1, patch=4, dim=64, depth=4, heads=4, mlp_ratio=4, classes=10):
        super().__init__()
        self.patch = patch
        self.g = image // patch
        n = self.g * self.g
        self.embed = nn.Linear(patch * patch * channels, dim)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, norm) for _ in range(depth)])
        self.norm = make_norm(norm, dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, images):  # [B, H, W, C]
        B, Hh, Ww, C = images.shape
        p, g = self.patch, self.g
        x = images.reshape(B, g, p, g, p, C).permute(0, 1, 3, 2, 4, 5).reshape(B, g * g, p * p * C)
        x = self.embed(x)
        x = torch.cat([self.cls.expand(B, -1, -1), x], dim=1) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x[:, 0]))


# ---------------------------------------------------------------------------
# The LLaMA-style LM (same math and parameters as lib/models/llama.ts).

# Causal attention: PyTorch's fused kernel where this torch has one (2.0+),
# else the same additive mask and softmax as the lab (Debian bookworm ships 1.13).
ATTENTION = "sdpa" if hasattr(F, "scaled_dot_product_attention") else "explicit"


def llama_ffn_hidden(dim, multiple=8):
    """lib/models/llama.ts llamaFfnHidden: 2/3 of 4d, rounded up to a multiple of 8."""
    return multiple * math.ceil((8 * dim) / 3 / multiple)


def rope_tables(T, dh, theta):
    """cos, sin [T, dh/2] as lib/models/rope.ts ropeTables: angles in double, rounded once."""
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    inv = theta ** (-2.0 * torch.arange(dh // 2, dtype=torch.float64) / dh)
    ang = pos * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def rope(x, cos, sin):
    """Half-split RoPE (GPT-NeoX / lib/models/rope.ts): dim i pairs with i + dh/2."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self, dim, heads, hidden, norm, alpha0_attn, alpha0_ffn):
        super().__init__()
        self.heads = heads
        self.n1 = make_norm(norm, dim, alpha0_attn, bias=False)
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)
        self.n2 = make_norm(norm, dim, alpha0_ffn, bias=False)
        self.fc1 = nn.Linear(dim, 2 * hidden, bias=False)  # gate | up, as the lab's fused fc1
        self.fc2 = nn.Linear(hidden, dim, bias=False)

    def attention(self, x, cos, sin, mask):
        B, T, D = x.shape
        H = self.heads
        dh = D // H
        q, k, v = (t.reshape(B, T, H, dh).transpose(1, 2) for t in self.qkv(x).split(D, dim=-1))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if ATTENTION == "sdpa":
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            attn = torch.softmax((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh)) + mask, dim=-1)
            out = attn @ v
        return self.proj(out.transpose(1, 2).reshape(B, T, D))

    def forward(self, x, cos, sin, mask):
        h = x + self.attention(self.n1(x), cos, sin, mask)
        gate, up = self.fc1(self.n2(h)).chunk(2, dim=-1)
        return h + self.fc2(F.silu(gate) * up)


class LlamaLM(nn.Module):
    def __init__(self, norm, vocab, seq_len, dim, depth, heads, alpha0=(0.5, 0.5, 0.5), embed_scale=False, rope_theta=10000.0, init_std=0.02):
        super().__init__()
        hidden = llama_ffn_hidden(dim)
        self.embed = nn.Embedding(vocab, dim)
        # The DyT recipe's learnable scalar after the embedding, init sqrt(d).
        self.embed_scale = nn.Parameter(torch.full((1,), math.sqrt(dim))) if embed_scale else None
        self.blocks = nn.ModuleList([LlamaBlock(dim, heads, hidden, norm, alpha0[0], alpha0[1]) for _ in range(depth)])
        self.norm = make_norm(norm, dim, alpha0[2], bias=False)
        self.head = nn.Linear(dim, vocab, bias=False)  # untied
        cos, sin = rope_tables(seq_len, dim // heads, rope_theta)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.triu(torch.full((seq_len, seq_len), -1e9), diagonal=1), persistent=False)
        # The lab's init (truncated normal, width-matched std) for the embedding and every matrix.
        for p in self.parameters():
            if p.ndim == 2:
                nn.init.trunc_normal_(p, std=init_std, a=-2.0, b=2.0)

    def forward(self, tokens):  # [B, T] int64 -> logits [B, T, vocab]
        T = tokens.shape[1]
        x = self.embed(tokens)
        if self.embed_scale is not None:
            x = x * self.embed_scale
        cos, sin, mask = self.cos[:T], self.sin[:T], self.mask[:T, :T]
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        return self.head(self.norm(x))


# ---------------------------------------------------------------------------
# ConvNeXt (same layers, shapes and norm placement as lib/models/convnext.ts).


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, kernel, mlp_ratio, layer_scale_init, norm, alpha0, eps):
        super().__init__()
        hidden = int(round(mlp_ratio * dim))
        self.dwconv = nn.Conv2d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = make_norm(norm, dim, alpha0, eps=eps)  # channels-last, on [B, H, W, C]
        self.pwconv1 = nn.Linear(dim, hidden)
        self.pwconv2 = nn.Linear(hidden, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale_init)) if layer_scale_init > 0 else None

    def forward(self, x):  # [B, C, H, W]
        h = self.dwconv(x).permute(0, 2, 3, 1)
        h = self.pwconv2(F.gelu(self.pwconv1(self.norm(h))))
        if self.gamma is not None:
            h = self.gamma * h
        return x + h.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self, norm, channels, classes, stem_patch, dims, depths, kernel, mlp_ratio, layer_scale_init, alpha0, eps, init_std):
        super().__init__()
        cf = dict(alpha0=alpha0, eps=eps, channels_first=True)
        self.stem = nn.Sequential(nn.Conv2d(channels, dims[0], stem_patch, stride=stem_patch), make_norm(norm, dims[0], **cf))
        self.downsample = nn.ModuleList([nn.Sequential(make_norm(norm, dims[i - 1], **cf), nn.Conv2d(dims[i - 1], dims[i], 2, stride=2)) for i in range(1, len(dims))])
        self.stages = nn.ModuleList([nn.Sequential(*[ConvNeXtBlock(d, kernel, mlp_ratio, layer_scale_init, norm, alpha0, eps) for _ in range(n)]) for d, n in zip(dims, depths)])
        self.norm = make_norm(norm, dims[-1], alpha0, eps=eps)
        self.head = nn.Linear(dims[-1], classes)
        # The lab's init: truncated normal (std init_std, cut at +-2 as timm) kernels, zero biases.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=init_std, a=-2.0, b=2.0)
                nn.init.zeros_(m.bias)

    def forward(self, images):  # [B, H, W, C]
        x = self.stem(images.permute(0, 3, 1, 2))
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.downsample[i - 1](x)
            x = stage(x)
        return self.head(self.norm(x.mean(dim=(2, 3))))


# ---------------------------------------------------------------------------
# DiT (same layers and shapes as lib/models/dit.ts).


def sincos_pos_embed_2d(dim, g):
    """lib/models/dit.ts sincosPosEmbed2d: [g*g, dim], column then row, each [sin | cos]."""
    q = dim // 4
    w = 1.0 / torch.pow(10000.0, torch.arange(q, dtype=torch.float64) / q)
    r, c = torch.meshgrid(torch.arange(g, dtype=torch.float64), torch.arange(g, dtype=torch.float64), indexing="ij")
    c, r = c.reshape(-1, 1) * w, r.reshape(-1, 1) * w
    return torch.cat([torch.sin(c), torch.cos(c), torch.sin(r), torch.cos(r)], dim=1).float()


def timestep_embedding(t, dim):
    """lib/models/dit.ts timestepEmbedding: [cos(t f_k) | sin(t f_k)], f_k = 10000^(-k / (dim/2))."""
    half = dim // 2
    f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * f[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, norm, alpha0, eps):
        super().__init__()
        self.n1 = make_norm(norm, dim, alpha0, bias=False, weight=False, eps=eps)
        self.n2 = make_norm(norm, dim, alpha0, bias=False, weight=False, eps=eps)
        self.core = Block(dim, heads, mlp_ratio, "identity")  # attention and MLP, identity norm slots
        self.adaLN = nn.Linear(dim, 6 * dim)

    def forward(self, x, c):
        s1, a1, g1, s2, a2, g2 = self.adaLN(F.silu(c)).chunk(6, dim=1)
        h = x + g1[:, None] * self.core.attention(modulate(self.n1(x), s1, a1))
        return h + g2[:, None] * self.core.mlp(modulate(self.n2(h), s2, a2))


class DiT(nn.Module):
    def __init__(self, norm, image, channels, classes, patch, dim, depth, heads, mlp_ratio, freq_dim, alpha0, eps, ada_ln_zero):
        super().__init__()
        self.patch, self.g, self.channels, self.freq_dim = patch, image // patch, channels, freq_dim
        pc = patch * patch * channels
        self.x_embed = nn.Linear(pc, dim)
        self.register_buffer("pos", sincos_pos_embed_2d(dim, self.g)[None], persistent=False)
        self.t_mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.y_embed = nn.Embedding(classes, dim)
        self.blocks = nn.ModuleList([DiTBlock(dim, heads, mlp_ratio, norm, alpha0, eps) for _ in range(depth)])
        self.final_norm = make_norm(norm, dim, alpha0, bias=False, weight=False, eps=eps)
        self.final_adaLN = nn.Linear(dim, 2 * dim)
        self.final_linear = nn.Linear(dim, pc)
        # DiT's initialize_weights: Xavier Linears with zero biases, N(0, 0.02) embeddings
        # (truncated at +-2 in the lab, as timm); adaLN-Zero zeroes every modulation Linear and the output.
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        for m in (self.t_mlp[0], self.t_mlp[2]):
            nn.init.trunc_normal_(m.weight, std=0.02, a=-2.0, b=2.0)
        nn.init.trunc_normal_(self.y_embed.weight, std=0.02, a=-2.0, b=2.0)
        if ada_ln_zero:
            for m in [b.adaLN for b in self.blocks] + [self.final_adaLN, self.final_linear]:
                nn.init.zeros_(m.weight)

    def forward(self, xt, t, y):  # xt [B, H, W, C], t [B] float, y [B] int64 -> eps-hat [B, H, W, C]
        B = xt.shape[0]
        p, g, C = self.patch, self.g, self.channels
        x = xt.reshape(B, g, p, g, p, C).permute(0, 1, 3, 2, 4, 5).reshape(B, g * g, p * p * C)
        x = self.x_embed(x) + self.pos
        c = self.t_mlp(timestep_embedding(t, self.freq_dim)) + self.y_embed(y)
        for b in self.blocks:
            x = b(x, c)
        shift, scale = self.final_adaLN(F.silu(c)).chunk(2, dim=1)
        out = self.final_linear(modulate(self.final_norm(x), shift, scale))
        return out.reshape(B, g, g, p, p, C).permute(0, 1, 3, 2, 4, 5).reshape(B, g * p, g * p, C)


# ---------------------------------------------------------------------------
# wav2vec 2.0 (same layers, shapes and loss as lib/models/wav2vec.ts).


def parse_conv_layers(text):
    """--conv-layers "32:10:5,32:3:2,...": (channels, kernel, stride) per feature-encoder conv."""
    layers = [tuple(int(v) for v in part.split(":")) for part in text.split(",")]
    if not layers or any(len(l) != 3 or min(l) < 1 for l in layers):
        raise SystemExit(f"--conv-layers: expected channels:kernel:stride,... (positive integers), got {text!r}")
    return layers


class Wav2Vec2(nn.Module):
    def __init__(self, norm, conv_norm, conv_layers, dim, depth, heads, mlp_ratio, pos_kernel, pos_groups, quant_groups, quant_entries, final_dim, alpha0, eps, init_std):
        super().__init__()
        self.G, self.V, self.final_dim = quant_groups, quant_entries, final_dim
        self.convs = nn.ModuleList()
        self.conv_norms = nn.ModuleList()
        cin = 1
        for ch, k, s in conv_layers:
            conv = nn.Conv1d(cin, ch, k, stride=s, bias=False)
            nn.init.kaiming_normal_(conv.weight)  # fairseq's ConvFeatureExtractionModel
            self.convs.append(conv)
            self.conv_norms.append(make_norm(conv_norm, ch, alpha0, eps=eps))  # per step, over channels
            cin = ch
        C = cin
        self.layer_norm = make_norm(norm, C, alpha0, eps=eps)
        self.post_extract_proj = nn.Linear(C, dim)
        self.mask_emb = nn.Parameter(torch.rand(dim))
        # "Same" padding as lib/ops/conv1d.ts groupedConv1dSame: floor(K/2) left, K - 1 - floor(K/2) right
        # (for even K, fairseq's padding K/2 and SamePad's dropped last step).
        self.pos_pad = (pos_kernel // 2, pos_kernel - 1 - pos_kernel // 2)
        pos = nn.Conv1d(dim, dim, pos_kernel, groups=pos_groups)
        nn.init.normal_(pos.weight, 0.0, math.sqrt(4.0 / (pos_kernel * dim)))
        nn.init.zeros_(pos.bias)
        # weight_norm over the kernel axis: g has one entry per tap ([1, 1, K]), as the lab's g [K].
        self.pos_conv = nn.utils.weight_norm(pos, name="weight", dim=2)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, norm, alpha0, eps) for _ in range(depth)])
        for b in self.blocks:
            for m in (b.qkv, b.proj, b.fc1, b.fc2):
                nn.init.trunc_normal_(m.weight, std=init_std, a=-2.0, b=2.0)
                nn.init.zeros_(m.bias)
        self.encoder_norm = make_norm(norm, dim, alpha0, eps=eps)
        self.final_proj = nn.Linear(dim, final_dim)
        self.weight_proj = nn.Linear(C, quant_groups * quant_entries)
        nn.init.normal_(self.weight_proj.weight, 0.0, 1.0)
        nn.init.zeros_(self.weight_proj.bias)
        self.codevars = nn.Parameter(torch.rand(quant_groups, quant_entries, final_dim // quant_groups))
        self.project_q = nn.Linear(final_dim, final_dim)

    def forward(self, wave, mask, masked, negatives, gumbel, tau, logit_temp, diversity_weight, feature_penalty):
        """wave [B, L]; mask [B, T, 1] (1 = masked); masked [B, M] its steps; negatives [B, M, K] indices into M; gumbel [B*M, G, V]."""
        B, M = masked.shape
        G, V = self.G, self.V
        h = wave[:, None, :]
        for conv, n in zip(self.convs, self.conv_norms):
            f = F.gelu(n(conv(h).transpose(1, 2)))  # [B, T, C]
            h = f.transpose(1, 2)
        penalty = f.pow(2).mean()
        f = self.layer_norm(f)
        x = self.post_extract_proj(f)
        x = x * (1 - mask) + mask * self.mask_emb
        x = x + F.gelu(self.pos_conv(F.pad(x.transpose(1, 2), self.pos_pad)).transpose(1, 2))
        for b in self.blocks:
            x = b(x)
        x = self.encoder_norm(x)
        bi = torch.arange(B)[:, None]
        c = self.final_proj(x[bi, masked])  # [B, M, final_dim]
        # Quantizer on the masked steps' normed features: hard Gumbel-softmax, straight-through.
        logits = self.weight_proj(f[bi, masked]).reshape(B * M, G, V)
        avg = torch.softmax(logits, -1).mean(0)
        perplexity = torch.exp(-(avg * torch.log(avg + 1e-7)).sum(-1)).sum()
        y = torch.softmax((logits + gumbel) / tau, -1)
        onehot = F.one_hot(y.argmax(-1), V).to(y.dtype) - y.detach() + y
        q = self.project_q(torch.einsum("ngv,gvd->ngd", onehot, self.codevars).reshape(B, M, self.final_dim))
        # Contrastive loss: cosine similarity / kappa with the target first and K distractors;
        # distractors identical to the target get -1e9 (fairseq's -inf), as the lab.
        negs = q[bi[:, :, None], negatives]  # [B, M, K, d]
        targets = torch.cat([q[:, :, None], negs], 2)
        c4 = c[:, :, None]
        cos = (c4 * targets).sum(-1) / torch.clamp(c4.norm(dim=-1) * targets.norm(dim=-1), min=1e-8)
        same = torch.cat([torch.zeros_like(negatives[..., :1], dtype=torch.bool), (negs == q[:, :, None]).all(-1)], -1)
        sim = (cos / logit_temp).masked_fill(same, -1e9)
        contrastive = -F.log_softmax(sim, -1)[..., 0].mean()
        GV = G * V
        return contrastive + diversity_weight * (GV - perplexity) / GV + feature_penalty * penalty


# ---------------------------------------------------------------------------
# HyenaDNA (same layers and shapes as lib/models/hyena.ts).
def hyena_positional_features(max_len, emb_dim):
    """lib/models/hyena.ts positionalFeatures: [maxL, embDim] = [t, cos(f_k w), -sin(f_k w)]."""
    bands = (emb_dim - 1) // 2
    p = torch.arange(max_len, dtype=torch.float64)
    t = p / (max_len - 1) if max_len > 1 else torch.zeros(max_len, dtype=torch.float64)
    w = 2 * math.pi * p / max_len
    f = torch.linspace(1e-4, bands - 1, bands, dtype=torch.float64) if bands > 1 else torch.full((1,), 1e-4, dtype=torch.float64)
    return torch.cat([t[:, None], torch.cos(f[None] * w[:, None]), -torch.sin(f[None] * w[:, None])], 1).float()


def hyena_decay_window(max_len, dim, fast, slow, target):
    """lib/models/hyena.ts decayWindow: [maxL, dim] = exp(-t |delta_c|), deltas linear between ln(target)/slow and ln(target)/fast."""
    lo, hi = abs(math.log(target) / slow), abs(math.log(target) / fast)
    t = torch.arange(max_len, dtype=torch.float64) / (max_len - 1) if max_len > 1 else torch.zeros(max_len, dtype=torch.float64)
    delta = torch.linspace(lo, hi, dim, dtype=torch.float64) if dim > 1 else torch.full((1,), lo, dtype=torch.float64)
    return torch.exp(-t[:, None] * delta[None]).float()


class HyenaOperator(nn.Module):
    def __init__(self, dim, max_len, order, emb_dim, sin_freq, short_filter, decay):
        super().__init__()
        self.dim = dim
        self.in_proj = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)
        self.short_filter = nn.Conv1d(3 * dim, 3 * dim, short_filter, groups=3 * dim, padding=short_filter - 1)
        self.fc1 = nn.Linear(emb_dim, order)
        self.fc2 = nn.Linear(order, order)
        self.fc3 = nn.Linear(order, dim, bias=False)
        self.sin1 = nn.Parameter(torch.full((order,), sin_freq))
        self.sin2 = nn.Parameter(torch.full((order,), sin_freq))
        self.bias = nn.Parameter(torch.randn(dim))  # the long conv's per-channel skip D
        self.register_buffer("z", hyena_positional_features(max_len, emb_dim))
        self.register_buffer("decay", hyena_decay_window(max_len, dim, *decay))

    def filter(self, L):  # [L, dim]
        h = torch.sin(self.sin1 * self.fc1(self.z[:L]))
        h = torch.sin(self.sin2 * self.fc2(h))
        return self.fc3(h) * self.decay[:L]

    def forward(self, u):  # [B, L, dim]
        L = u.shape[1]
        p = self.short_filter(self.in_proj(u).transpose(1, 2))[..., :L]  # causal: keep the first L outputs
        x0, x1, v = p.split(self.dim, dim=1)  # [B, dim, L] each
        v = v * x1
        n = 2 * L  # HyenaDNA's fftconv: zero-padded to 2L, so the circular product is the linear one
        k_f = torch.fft.rfft(self.filter(L).t(), n=n)
        y = torch.fft.irfft(torch.fft.rfft(v, n=n) * k_f, n=n)[..., :L] + v * self.bias[:, None]
        return self.out_proj((y * x0).transpose(1, 2))


class HyenaBlock(nn.Module):
    def __init__(self, dim, mlp_ratio, norm, alpha0, eps, **op):
        super().__init__()
        self.n1 = make_norm(norm, dim, alpha0, eps=eps)
        self.mixer = HyenaOperator(dim, **op)
        self.n2 = make_norm(norm, dim, alpha0, eps=eps)
        hidden = int(round(dim * mlp_ratio))
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        h = x + self.mixer(self.n1(x))
        return h + self.fc2(F.gelu(self.fc1(self.n2(h))))


class HyenaDNA(nn.Module):
    def __init__(self, norm, vocab, dim, depth, mlp_ratio, alpha0, eps, init_std, **op):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        nn.init.trunc_normal_(self.embed.weight, std=init_std, a=-2 * init_std, b=2 * init_std)
        self.blocks = nn.ModuleList([HyenaBlock(dim, mlp_ratio, norm, alpha0, eps, **op) for _ in range(depth)])
        self.norm = make_norm(norm, dim, alpha0, eps=eps)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, tokens):  # [B, T] int64 -> logits [B, T, vocab]
        x = self.embed(tokens)
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x))


# ---------------------------------------------------------------------------
# The step of each model: model, loss on a fixed batch, which parameters decay.


def blas_check():
    """Largest error of float32 mm / bmm (every transpose) against float64, relative to |a| |b|: OpenBLAS's
    kernels for a CPU they misdetect can compute wrong results; right ones stay near float32 rounding (~1e-6)."""
    g = torch.Generator().manual_seed(1)
    a = torch.randn(300, 257, generator=g)
    b = torch.randn(257, 129, generator=g)
    worst = 0.0
    for x, y in ((a, b), (a.t().contiguous().t(), b), (a, b.t().contiguous().t()), (a.t().contiguous().t(), b.t().contiguous().t())):
        ref = x.double() @ y.double()
        scale = x.abs().double() @ y.abs().double()
        worst = max(worst, float(((x @ y).double() - ref).abs().div(scale).max()))
    xb, yb = a.reshape(3, 100, 257), torch.randn(3, 257, 64, generator=g)
    ref = torch.bmm(xb.double(), yb.double())
    scale = torch.bmm(xb.abs().double(), yb.abs().double())
    return max(worst, float((torch.bmm(xb, yb).double() - ref).abs().div(scale).max()))


def cpu_kernels():
    """What runs PyTorch's kernels, read back rather than assumed (bench.ts --isa
    forces them through the environment): ATen's CPU capability and the core
    the OpenBLAS that torch loaded picked (None when torch loaded no OpenBLAS)."""
    backend = getattr(torch.backends, "cpu", None)
    if backend is not None and hasattr(backend, "get_cpu_capability"):
        cap = backend.get_cpu_capability()
    else:  # torch < 2.0: only the config text says
        cap = next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines() if "CPU capability usage" in l), None)
    core = None
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
        # dlopen of an already loaded library returns that instance: only then is its answer torch's.
        if "libopenblas" in maps:
            import ctypes

            lib = ctypes.CDLL("libopenblas.so.0")
            lib.openblas_get_corename.restype = ctypes.c_char_p
            core = lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        pass
    return cap, core


def build_vit(a):
    model = ViT(a.norm, patch=a.patch, dim=a.dim, depth=a.depth, heads=a.heads, mlp_ratio=a.mlp_ratio)
    x = torch.randn(a.batch, 28, 28, 1)
    y = torch.randint(0, 10, (a.batch,))
    decays = lambda n, p: p.ndim == 2 and "pos" not in n and "cls" not in n
    wd = 0.05 if a.weight_decay is None else a.weight_decay
    return model, lambda: F.cross_entropy(model(x), y), decays, wd


def parse_alpha0(text):
    vals = [float(v) for v in text.split(",")]
    if len(vals) != 3:
        raise SystemExit(f"--alpha0: expected three values attn,ffn,final (e.g. 1,1,1), got {text!r}")
    return vals


def build_llama(a):
    if a.norm not in ("rmsnorm", "dyt"):
        raise SystemExit(f"--model llama: --norm must be rmsnorm or dyt (the LM's norms), got {a.norm}")
    init_std = a.init_std if a.init_std is not None else 0.02 * math.sqrt(4096 / a.dim)  # widthMatchedInitStd
    model = LlamaLM(a.norm, a.vocab, a.seq_len, a.dim, a.depth, a.heads, parse_alpha0(a.alpha0 or "0.5,0.5,0.5"), a.embed_scale, a.rope_theta, init_std)
    tokens = torch.randint(0, a.vocab, (a.batch, a.seq_len + 1))
    x, y = tokens[:, :-1].contiguous(), tokens[:, 1:].reshape(-1).contiguous()  # next-token targets
    decays = lambda n, p: p.ndim == 2  # embedding, linears, head; not norms, alpha, the scalar
    wd = 0.1 if a.weight_decay is None else a.weight_decay
    return model, lambda: F.cross_entropy(model(x).reshape(-1, a.vocab), y), decays, wd


def int_list(text):
    return [int(v) for v in text.split(",")]


def build_convnext(a):
    if a.norm not in ("layernorm", "dyt"):
        raise SystemExit(f"--model convnext: --norm must be layernorm or dyt, got {a.norm}")
    model = ConvNeXt(a.norm, a.channels, a.classes, a.stem_patch, int_list(a.dims), int_list(a.depths), a.kernel, a.mlp_ratio, a.layer_scale_init, float(a.alpha0 or 0.5), a.eps, a.init_std if a.init_std is not None else 0.02)
    x = torch.rand(a.batch, a.image, a.image, a.channels)
    y = torch.randint(0, a.classes, (a.batch,))
    decays = lambda n, p: p.ndim >= 2  # convolution kernels and weight matrices; not biases, norms, alpha, layer scale
    wd = 0.05 if a.weight_decay is None else a.weight_decay
    return model, lambda: F.cross_entropy(model(x), y), decays, wd


def build_dit(a):
    if a.norm not in ("layernorm", "dyt"):
        raise SystemExit(f"--model dit: --norm must be layernorm or dyt, got {a.norm}")
    model = DiT(a.norm, a.image, a.channels, a.classes, a.patch, a.dim, a.depth, a.heads, a.mlp_ratio, a.freq_dim, float(a.alpha0 or 0.5), a.eps, a.ada_ln_zero)
    # A fixed noised batch, as lib/train/diffusion.ts draws one: t uniform in [0, T), x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps.
    betas = torch.linspace(a.beta_start, a.beta_end, a.diffusion_steps, dtype=torch.float64)
    ab = torch.cumprod(1 - betas, dim=0)
    t = torch.randint(0, a.diffusion_steps, (a.batch,))
    x0 = torch.rand(a.batch, a.image, a.image, a.channels) * 2 - 1
    eps = torch.randn_like(x0)
    s = ab[t].float()[:, None, None, None]
    xt = s.sqrt() * x0 + (1 - s).sqrt() * eps
    y = torch.randint(0, a.classes, (a.batch,))
    tf_ = t.float()
    decays = lambda n, p: p.ndim >= 2  # weight matrices and the class table; not biases or alpha
    wd = 0.0 if a.weight_decay is None else a.weight_decay
    return model, lambda: F.mse_loss(model(xt, tf_, y), eps), decays, wd


def build_hyena(a):
    if a.norm not in ("layernorm", "dyt"):
        raise SystemExit(f"--model hyena: --norm must be layernorm or dyt, got {a.norm}")
    fast, slow, target = (float(v) for v in a.decay.split(","))
    model = HyenaDNA(a.norm, a.vocab, a.dim, a.depth, a.mlp_ratio, float(a.alpha0 or 0.5), a.eps, a.init_std if a.init_std is not None else 0.02,
                     max_len=a.max_seq_len, order=a.filter_order, emb_dim=a.filter_emb_dim, sin_freq=a.filter_sin_freq, short_filter=a.short_filter, decay=(fast, slow, target))
    tokens = torch.randint(0, a.vocab, (a.batch, a.seq_len + 1))
    x, y = tokens[:, :-1].contiguous(), tokens[:, 1:].reshape(-1).contiguous()
    # As the lab's ParamStore: kernels and weight matrices decay; biases, norms, alpha, Sin frequencies and D do not.
    decays = lambda n, p: p.ndim >= 2
    wd = 0.1 if a.weight_decay is None else a.weight_decay
    return model, lambda: F.cross_entropy(model(x).reshape(-1, a.vocab), y), decays, wd


def build_wav2vec(a):
    if a.norm not in ("layernorm", "dyt"):
        raise SystemExit(f"--model wav2vec: --norm must be layernorm or dyt, got {a.norm}")
    if a.masked < 2 or a.negatives < 1:
        raise SystemExit(f"--model wav2vec: --masked (M, the lab's masked steps per window) must be >= 2 and --negatives (K) >= 1, got {a.masked} and {a.negatives}")
    layers = parse_conv_layers(a.conv_layers)
    model = Wav2Vec2(a.norm, a.conv_norm, layers, a.dim, a.depth, a.heads, a.mlp_ratio, a.pos_conv_kernel, a.pos_conv_groups, a.quant_groups, a.quant_entries, a.final_dim, float(a.alpha0 or 0.5), a.eps, a.init_std if a.init_std is not None else 0.02)
    T = a.samples
    for _, k, s in layers:
        T = (T - k) // s + 1
    if T < a.masked:
        raise SystemExit(f"--model wav2vec: {a.samples} samples give {T} steps, fewer than --masked {a.masked}")
    # A fixed batch, as the lab's: waves in [-1, 1]; M masked steps per window and K distractors per masked step
    # (drawn here with torch's seed: which steps, not how many, differs from the lab's draw); Gumbel noise once.
    B, M, K = a.batch, a.masked, a.negatives
    wave = torch.rand(B, a.samples) * 2 - 1
    masked = torch.rand(B, T).argsort(-1)[:, :M].sort(-1).values
    mask = torch.zeros(B, T).scatter_(1, masked, 1.0)[:, :, None]
    j = torch.randint(0, M - 1, (B, M, K))
    negatives = j + (j >= torch.arange(M)[None, :, None]).long()  # uniform over the other masked steps
    gumbel = -torch.log(-torch.log(torch.rand(B * M, a.quant_groups, a.quant_entries).clamp_min(1e-12)))
    # Conv kernels, v of the positional conv and weight matrices decay (ParamStore's decay flags); not norms, biases,
    # alpha, mask_emb, the weight-norm g or the codewords.
    decays = lambda n, p: p.ndim >= 2 and n not in ("codevars", "pos_conv.weight_g")
    wd = 0.01 if a.weight_decay is None else a.weight_decay
    loss = lambda: model(wave, mask, masked, negatives, gumbel, a.gumbel_temp, a.logit_temp, a.diversity_weight, a.feature_penalty)
    return model, loss, decays, wd


BUILDERS = {"vit": build_vit, "llama": build_llama, "convnext": build_convnext, "dit": build_dit, "hyena": build_hyena, "wav2vec": build_wav2vec}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="vit", choices=list(BUILDERS))
    ap.add_argument("--norm", default="layernorm", choices=["layernorm", "dyt", "rmsnorm"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp-ratio", type=float, default=4)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=128, help="llama / hyena: tokens per sequence")
    ap.add_argument("--vocab", type=int, default=257, help="llama / hyena: vocabulary (llama 257 = bytes + separator; hyena 5 = A C G T N)")
    ap.add_argument("--alpha0", default=None, help="DyT's alpha0: llama attn,ffn,final (default 0.5,0.5,0.5); convnext / dit one value (default 0.5)")
    ap.add_argument("--embed-scale", action="store_true", help="llama: learnable scalar after the embedding (DyT recipe)")
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--init-std", type=float, default=None, help="llama: init std (default 0.02 * sqrt(4096 / dim)); convnext / hyena: init std (default 0.02)")
    ap.add_argument("--weight-decay", type=float, default=None, help="AdamW decay on weight matrices (default vit 0.05, llama 0.1, convnext 0.05, dit 0, hyena 0.1, wav2vec 0.01)")
    ap.add_argument("--image", type=int, default=28, help="convnext / dit: image side")
    ap.add_argument("--channels", type=int, default=1, help="convnext / dit: image channels")
    ap.add_argument("--classes", type=int, default=10, help="convnext / dit: classes")
    ap.add_argument("--eps", type=float, default=1e-6, help="convnext / dit / hyena: LayerNorm eps")
    ap.add_argument("--stem-patch", type=int, default=2, help="convnext: stem stride = kernel")
    ap.add_argument("--dims", default="24,48,96", help="convnext: channels per stage")
    ap.add_argument("--depths", default="1,1,1", help="convnext: blocks per stage")
    ap.add_argument("--kernel", type=int, default=7, help="convnext: depthwise kernel")
    ap.add_argument("--layer-scale-init", type=float, default=1e-6, help="convnext: layer scale init (0: none)")
    ap.add_argument("--freq-dim", type=int, default=256, help="dit: timestep embedding frequencies")
    ap.add_argument("--ada-ln-zero", action="store_true", help="dit: zero-init the adaLN and output Linears (DiT's adaLN-Zero)")
    ap.add_argument("--diffusion-steps", type=int, default=1000, help="dit: diffusion steps T")
    ap.add_argument("--beta-start", type=float, default=1e-4, help="dit: linear beta schedule start")
    ap.add_argument("--beta-end", type=float, default=0.02, help="dit: linear beta schedule end")
    ap.add_argument("--max-seq-len", type=int, default=1024, help="hyena: the implicit filter's positional grid")
    ap.add_argument("--filter-order", type=int, default=64, help="hyena: width of the implicit filter MLP")
    ap.add_argument("--filter-emb-dim", type=int, default=5, help="hyena: positional features (t + cos/sin bands)")
    ap.add_argument("--filter-sin-freq", type=float, default=1.0, help="hyena: initial Sin frequency")
    ap.add_argument("--short-filter", type=int, default=3, help="hyena: taps of the short causal depthwise conv")
    ap.add_argument("--decay", default="0.3,1.5,0.01", help="hyena: decay window fast,slow,target")
    ap.add_argument("--samples", type=int, default=16000, help="wav2vec: samples per window")
    ap.add_argument("--conv-layers", default="32:10:5,32:3:2,32:3:2,32:3:2,32:3:2,32:2:2,32:2:2", help="wav2vec: feature encoder, channels:kernel:stride per conv")
    ap.add_argument("--conv-norm", default="layernorm", choices=["layernorm", "dyt"], help="wav2vec: norm of the conv feature encoder")
    ap.add_argument("--pos-conv-kernel", type=int, default=16, help="wav2vec: positional conv kernel")
    ap.add_argument("--pos-conv-groups", type=int, default=4, help="wav2vec: positional conv groups")
    ap.add_argument("--quant-groups", type=int, default=2, help="wav2vec: quantizer groups G")
    ap.add_argument("--quant-entries", type=int, default=32, help="wav2vec: codewords per group V")
    ap.add_argument("--final-dim", type=int, default=32, help="wav2vec: dimension where context and targets are compared")
    ap.add_argument("--masked", type=int, default=20, help="wav2vec: masked steps per window M (the lab's draw)")
    ap.add_argument("--negatives", type=int, default=10, help="wav2vec: distractors per masked step K")
    ap.add_argument("--gumbel-temp", type=float, default=2.0, help="wav2vec: Gumbel-softmax temperature")
    ap.add_argument("--logit-temp", type=float, default=0.1, help="wav2vec: cosine-similarity temperature")
    ap.add_argument("--diversity-weight", type=float, default=0.1, help="wav2vec: weight of the codebook diversity term")
    ap.add_argument("--feature-penalty", type=float, default=0.0, help="wav2vec: weight of mean(features^2)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="0: leave torch's default")
    ap.add_argument("--profile", action="store_true", help="also report torch.profiler op totals")
    ap.add_argument("--params-only", action="store_true", help="print the parameter count as JSON and exit")
    a = ap.parse_args()

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, loss_fn, decays, wd = BUILDERS[a.model](a)
    params = sum(p.numel() for p in model.parameters())
    if a.params_only:
        print(json.dumps({"params": params, "model": a.model, "norm": a.norm}))
        return 0
    named = list(model.named_parameters())
    decay = [p for n, p in named if decays(n, p)]
    no_decay = [p for n, p in named if not decays(n, p)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()

    # The first step's loss: the same seeds give the same loss under every
    # setting, so a setting whose kernels compute wrong results shows here.
    losses = [step() for _ in range(a.warmup)]
    times = []
    cpu = []
    for _ in range(a.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)

    cap, core = cpu_kernels()
    result = {
        "firstLoss": losses[0] if losses else None,
        "blasCheck": blas_check(),
        "msPerStep": statistics.median(times),
        "steps": times,
        "cpuSteps": cpu,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "model": a.model,
        "norm": a.norm,
        "params": params,
        "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"),
        "cpuCapability": cap,
        "openblasCorename": core,
        "dnnlMaxCpuIsa": os.environ.get("DNNL_MAX_CPU_ISA"),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "blas": next((l.strip() for l in torch.__config__.show().splitlines() if "BLAS_INFO" in l), None),
    }
    if a.model == "llama":
        result["attention"] = ATTENTION
    if a.profile:
        from torch.profiler import profile, ProfilerActivity

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
        ops = {}
        for ev in prof.key_averages():
            ops[ev.key] = {"ms": ev.self_cpu_time_total / 1000.0, "calls": ev.count}
        top = sorted(ops.items(), key=lambda kv: -kv[1]["ms"])[:12]
        result["profile"] = [{"op": k, **v} for k, v in top]
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
