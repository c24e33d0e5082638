#!/usr/bin/python3
"""PyTorch CPU reference for `npm run bench`: the same training step as the
tfjs bench (scripts/bench.ts), timed the same way.

Model (same math as lib/models/vit.ts): pre-norm ViT on 28x28x1 images,
patch 4 (49 patches + class token = 50 tokens), width 64, 4 heads, MLP ratio
4 with exact GELU, 4 blocks, final norm on the class token, linear head to 10
classes; softmax cross-entropy; AdamW (decay 0.05 on weight matrices only).
Norm: LayerNorm (eps 1e-6) or DyT (gamma * tanh(alpha x) + beta, alpha0 0.5).

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
    def __init__(self, dim, alpha0=0.5):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), alpha0))
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return self.weight * torch.tanh(self.alpha * x) + self.bias


def make_norm(kind, dim):
    if kind == "layernorm":
        return nn.LayerNorm(dim, eps=1e-6)
    if kind == "dyt":
        return DyT(dim)
    if kind == "rmsnorm":
        return RMSNorm(dim)
    raise ValueError(f"unknown norm {kind}")


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, norm):
        super().__init__()
        self.heads = heads
        self.n1 = make_norm(norm, dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.n2 = make_norm(norm, dim)
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

    def forward(self, x):
        h = x + self.attention(self.n1(x))
        return h + self.fc2(F.gelu(self.fc1(self.n2(h))))


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--norm", default="layernorm", choices=["layernorm", "dyt", "rmsnorm"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp-ratio", type=float, default=4)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="0: leave torch's default")
    ap.add_argument("--profile", action="store_true", help="also report torch.profiler op totals")
    a = ap.parse_args()

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ViT(a.norm, patch=a.patch, dim=a.dim, depth=a.depth, heads=a.heads, mlp_ratio=a.mlp_ratio)
    decay = [p for n, p in model.named_parameters() if p.ndim == 2 and "pos" not in n and "cls" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim == 2 and "pos" not in n and "cls" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
    x = torch.randn(a.batch, 28, 28, 1)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    cpu = []
    for _ in range(a.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)

    result = {
        "msPerStep": statistics.median(times),
        "steps": times,
        "cpuSteps": cpu,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "norm": a.norm,
        "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "blas": next((l.strip() for l in torch.__config__.show().splitlines() if "BLAS_INFO" in l), None),
    }
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
