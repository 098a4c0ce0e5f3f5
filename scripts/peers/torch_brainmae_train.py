#!/usr/bin/env python3
"""PyTorch's side of the BrainMAE training benchmark (scripts/bench-training.sh).

    torch_brainmae_train.py CONFIG.json INPUT.h5 THREADS STEPS

An eager PyTorch module of the same equations (docs/models.md, BrainMAE: SG TSE with
region-aware graph attention, temporal encoder, decoder, λ-weighted masked MSE), PyTorch-default
initialisation, AdamW(β = 0.9/0.95, wd 0.05 on 2-D weights). It reads the same /fmri windows as
`bioembed train brainmae` (z-scored, segmented, windows of `window_segments`), batches of
`batch_size`, one random mask ratio per batch. Prints one JSON line: seconds per step (after one
warm-up step), segments/s, peak RSS.
"""
import json
import math
import resource
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def sincos(positions, width):
    half = width // 2
    p = np.arange(positions)[:, None]
    w = 10000.0 ** (-np.arange(half) / half)
    return torch.tensor(np.concatenate([np.sin(p * w), np.cos(p * w)], 1), dtype=torch.float32)


class MLP(nn.Module):
    def __init__(self, w, h):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(w, h), nn.Linear(h, w)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm block; graph=True: attention from the ROI embeddings (diagonal and masked keys excluded)."""

    def __init__(self, w, heads, hidden, eps, graph):
        super().__init__()
        self.graph, self.heads = graph, heads
        self.norm1, self.norm2 = nn.LayerNorm(w, eps=eps), nn.LayerNorm(w, eps=eps)
        if graph:
            self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(w, w) for _ in range(4))
        else:
            self.qkv, self.proj = nn.Linear(w, 3 * w), nn.Linear(w, w)
        self.mlp = MLP(w, hidden)

    def forward(self, x, key_mask=None, roi_embed=None):
        S, L, w = x.shape
        h, hd = self.heads, w // self.heads
        u = self.norm1(x)
        if self.graph:
            q = self.q_proj(roi_embed).view(L, h, hd).transpose(0, 1)
            k = self.k_proj(roi_embed).view(L, h, hd).transpose(0, 1)
            scores = (q @ k.transpose(1, 2)) / math.sqrt(hd)
            scores = scores.masked_fill(torch.eye(L, dtype=torch.bool), float("-inf"))[None].expand(S, h, L, L)
            if key_mask is not None:
                scores = scores.masked_fill(key_mask[:, None, None, :], float("-inf"))
            v = self.v_proj(u).view(S, L, h, hd).transpose(1, 2)
            o = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(S, L, w)
            x = x + self.out_proj(o)
        else:
            q, k, v = self.qkv(u).view(S, L, 3, h, hd).permute(2, 0, 3, 1, 4)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            if key_mask is not None:
                scores = scores.masked_fill(key_mask[:, None, None, :], float("-inf"))
            o = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(S, L, w)
            x = x + self.proj(o)
        return x + self.mlp(self.norm2(x))


class BrainMAE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        n, tau, d, D, Dd, r, eps = c["n_rois"], c["seg_len"], c["tse_dim"], c["enc_dim"], c["dec_dim"], c["mlp_ratio"], c["ln_eps"]
        self.roi_embed = nn.Parameter(torch.randn(n, d) * 0.02)
        self.input_proj = nn.Linear(tau, d)
        self.tse = nn.ModuleList(Block(d, c["tse_heads"], int(d * r), eps, c["tse_type"] == "SG" or l == 0) for l in range(c["tse_depth"]))
        self.tse_norm, self.state_proj = nn.LayerNorm(d, eps=eps), nn.Linear(d, D)
        self.cls = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        self.register_buffer("enc_pos", sincos(c["max_segments"] + 1, D))
        self.enc = nn.ModuleList(Block(D, c["enc_heads"], int(D * r), eps, False) for _ in range(c["enc_depth"]))
        self.enc_norm, self.dec_embed = nn.LayerNorm(D, eps=eps), nn.Linear(D, Dd)
        self.register_buffer("dec_pos", sincos(c["max_segments"] + 1, Dd))
        self.dec = nn.ModuleList(Block(Dd, c["dec_heads"], int(Dd * r), eps, False) for _ in range(c["dec_depth"]))
        self.dec_norm, self.pred = nn.LayerNorm(Dd, eps=eps), nn.Linear(Dd, n * tau)

    def forward(self, segs, mask):
        B, K, N, tau = segs.shape
        keep = (1 - mask).reshape(B * K, N, 1)
        h = self.input_proj(segs.reshape(B * K, N, tau) * keep)
        km = mask.reshape(B * K, N).bool()
        for blk in self.tse:
            h = blk(h, km, self.roi_embed)
        z = (self.tse_norm(h) * keep).sum(1) / keep.sum(1).clamp(min=1)
        states = self.state_proj(z).view(B, K, -1)
        x = torch.cat([self.cls.expand(B, 1, -1), states], 1) + self.enc_pos[: K + 1]
        for blk in self.enc:
            x = blk(x)
        y = self.dec_embed(self.enc_norm(x)) + self.dec_pos[: K + 1]
        for blk in self.dec:
            y = blk(y)
        r = self.pred(self.dec_norm(y)[:, 1:]).view(B, K, N, tau)
        e = (r - segs) ** 2
        m = mask[..., None].expand_as(e)
        lm = (e * m).sum() / m.sum().clamp(min=1)
        lv = (e * (1 - m)).sum() / (1 - m).sum().clamp(min=1)
        lam = self.c.get("mask_loss_weight", 0.75)
        return lam * lm + (1 - lam) * lv


def windows(path, c):
    n, tau, k = c["n_rois"], c["seg_len"], c["window_segments"]
    out = []
    with h5py.File(path, "r") as f:
        ts, off = f["fmri/timeseries"][()], f["fmri/timeseries_offsets"][()]
    for i in range(len(off) - 1):
        x = ts[off[i]:off[i + 1]].T.astype(np.float64)
        x = ((x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-8)).astype(np.float32)
        K = x.shape[1] // tau
        segs = x[:, : K * tau].reshape(n, K, tau).transpose(1, 0, 2)
        for w in range(K // k):
            out.append(segs[w * k:(w + 1) * k])
    return torch.tensor(np.stack(out))


def main():
    config, path, threads, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c = json.load(open(config))
    data = windows(path, c)
    model = BrainMAE(c)
    decay = [p for name, p in model.named_parameters() if p.ndim == 2 and name.endswith("weight")]
    rest = [p for name, p in model.named_parameters() if not (p.ndim == 2 and name.endswith("weight"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    B, N = c["batch_size"], c["n_rois"]
    gen = torch.Generator().manual_seed(1)
    times = []
    for step in range(steps + 1):
        idx = torch.randperm(len(data), generator=gen)[:B]
        segs = data[idx]
        r = float(torch.rand(1, generator=gen)) * 0.8
        count = min(N - 2, round(r * N))
        order = torch.rand(segs.shape[0], segs.shape[1], N, generator=gen).argsort(-1)
        mask = (order < count).float()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(segs, mask)
        loss.backward()
        opt.step()
        if step > 0:
            times.append(time.perf_counter() - t0)
    per = sorted(times)[len(times) // 2]
    print(json.dumps({"tool": "pytorch", "threads": threads, "seconds_per_step": per,
                      "segments_per_second": B * c["window_segments"] / per, "loss": float(loss),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
