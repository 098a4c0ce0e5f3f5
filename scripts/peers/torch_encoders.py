#!/usr/bin/env python3
"""PyTorch's side of the encoder benchmarks (scripts/bench-encoders.sh).

    torch_encoders.py prepare pst|molt5|brainmae DIR [SIZE]   random weights (safetensors) + config.json + input.h5
    torch_encoders.py run     pst|molt5|brainmae DIR THREADS REPEATS [fp32|bf16|bf16-weights] [POOLED.npy]   one JSON line: forward seconds, peak RSS
    torch_encoders.py round-weights molt5 DIR   DIR/weights-bf16-rounded.safetensors (see bf16-weights)

SIZE `small` (default) is the fixed-length cases below. The real sizes (scripts/bench-encoders-real.sh):
`t33` / `t30` = PST on ESM-2 650M / 150M shapes (1.14 B / 259 M parameters) with chains of a proteome-like
length mix (log-normal around 350 residues, 50–2,500, one of 2,500); `base` = the 3D-MolT5 base encoder on
molecules of 10–120 tokens, which PyTorch pads per batch of 32 as Hugging Face does (with the key mask);
`paper` = BrainMAE at its paper-scale width (d = D = 256) on 64 runs of 1,200 frames × 100 regions;
`hcp` = the same model on 94 regions, its input real resting-state windows that the benchmark script
cut from HCP time series (DIR/windows.npy, windows × frames × regions; see bench-encoders-real.sh).
`bf16` runs the forward under `torch.autocast("cpu", dtype=torch.bfloat16)`; `bf16-weights` (molt5) runs
it in fp32 on the weights BioEmbed's bf16 mode holds in bfloat16, rounded as it rounds them. Weights are read tensor by
tensor into their final tensors (peak RSS = the weights, as `bioembed encode` holds them).

The models are eager PyTorch modules written from the same equations (docs/models.md, PST,
molt5.md §4, brainmae.md §5), loading the same weights file that `bioembed encode` reads, on the
same inputs: PST t6 (D=320, 6 layers, 20 heads, k_hop 2) on 300-residue chains with an 8 Å Cα
graph (one chain per forward, as pst_extract does); the 3D-MolT5 base encoder (768, 12 layers) on
batches of 32 molecules of 60 tokens; BrainMAE SG (d=D=256) on batches of 32 windows of
300 frames × 100 regions.
"""
import json
import math
import resource
import struct
import sys
import time

import h5py
import numpy as np

SIZES = {"pst": dict(items=8, residues=300), "molt5": dict(items=128, tokens=60, batch=32), "brainmae": dict(items=32, frames=300)}
# Real sizes: PST ESM-2 backbones (D, layers, heads) and the residues of the length mix.
PST_REAL = {"t33": dict(D=1280, L=33, H=20, residues=4000), "t30": dict(D=640, L=30, H=20, residues=12000)}
MOLT5_REAL = dict(items=512, shortest=10, longest=120)
# BrainMAE at its paper-scale width (brainmae.md §5.7) on HCP-length runs: 64 runs × 1,200 frames.
BRAINMAE_REAL = dict(items=64, frames=1200)


def proteome_lengths(rng, total):
    """Chain lengths of a proteome-like mix summing to about `total`: one 2,500-residue chain, the rest
    log-normal around 350 (σ 0.6) clipped to 50–2,500, in random order."""
    lengths = [2500]
    while sum(lengths) < total:
        lengths.append(int(np.clip(rng.lognormal(math.log(350), 0.6), 50, 2500)))
    rng.shuffle(lengths)
    return lengths


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """Each tensor read straight into its own array (no copy of the whole file held)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        out = {}
        for k, e in header.items():
            if k == "__metadata__":
                continue
            a = np.empty(e["shape"], dtype=np.float32)
            f.seek(8 + n + e["data_offsets"][0])
            f.readinto(memoryview(a).cast("B"))
            out[k] = a
        return out


def rand(rng, *shape, scale=None):
    scale = scale if scale is not None else 1 / math.sqrt(shape[-1])
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---------------------------------------------------------------------------------------------- prepare

def prepare_pst(d, rng, size="small"):
    real = PST_REAL.get(size)
    D, L, H = (real["D"], real["L"], real["H"]) if real else (320, 6, 20)
    F, K = 4 * D, 2
    w = {"embed_tokens.weight": rand(rng, 33, D, scale=1.0), "emb_layer_norm_after.weight": 1 + rand(rng, D, scale=0.1),
         "emb_layer_norm_after.bias": rand(rng, D, scale=0.1)}
    for l in range(L):
        p, a = f"layers.{l}", f"layers.{l}.self_attn"
        for n in ("self_attn_layer_norm", "final_layer_norm"):
            w[f"{p}.{n}.weight"] = 1 + rand(rng, D, scale=0.1); w[f"{p}.{n}.bias"] = rand(rng, D, scale=0.1)
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[f"{a}.{n}.weight"] = rand(rng, D, D); w[f"{a}.{n}.bias"] = rand(rng, D, scale=0.02)
        for n in ("q_struct_proj", "k_struct_proj", "v_struct_proj"):
            w[f"{a}.{n}.weight"] = rand(rng, D, D, scale=0.1 / math.sqrt(D))
        w[f"{a}.rot_emb.inv_freq"] = (1.0 / 10000 ** (np.arange(0, D // H, 2) / (D // H))).astype(np.float32)
        s = f"{a}.struct_extractor"
        for k in range(K):
            w[f"{s}.gnn.{k}.eps"] = np.zeros(1, np.float32)
            for n in ("nn.0", "nn.2"):
                w[f"{s}.gnn.{k}.{n}.weight"] = rand(rng, D, D); w[f"{s}.gnn.{k}.{n}.bias"] = rand(rng, D, scale=0.02)
            w[f"{s}.batch_norms.{k}.weight"] = 1 + rand(rng, D, scale=0.1); w[f"{s}.batch_norms.{k}.bias"] = rand(rng, D, scale=0.1)
            w[f"{s}.batch_norms.{k}.running_mean"] = rand(rng, D, scale=0.1)
            w[f"{s}.batch_norms.{k}.running_var"] = (1 + np.abs(rand(rng, D, scale=1.0))).astype(np.float32) * 10
            w[f"{s}.out_projs.{k}.weight"] = rand(rng, D, D)
        w[f"{p}.fc1.weight"] = rand(rng, F, D); w[f"{p}.fc1.bias"] = rand(rng, F, scale=0.02)
        w[f"{p}.fc2.weight"] = rand(rng, D, F); w[f"{p}.fc2.bias"] = rand(rng, D, scale=0.02)
    write_safetensors(f"{d}/weights.safetensors", w)
    del w
    # max_residues: ESM-2's rotary positions have no hard limit; the mix's longest chain is encoded whole.
    json.dump({"model": "PST", "embed_dim": D, "num_heads": H, "num_layers": L, "ffn_dim": F, "k_hop": K, "max_residues": 2500},
              open(f"{d}/config.json", "w"))
    lengths = proteome_lengths(rng, real["residues"]) if real else [SIZES["pst"]["residues"]] * SIZES["pst"]["items"]
    n = len(lengths)
    letters = np.array(list("LAGVSERTIDPKQNFYMHWC"))
    with h5py.File(f"{d}/input.h5", "w") as f:
        g = f.create_group("proteins")
        g.create_dataset("ids", data=[f"chain{i}" for i in range(n)], dtype=h5py.string_dtype())
        g.create_dataset("sequence", data=["".join(rng.choice(letters, r)) for r in lengths], dtype=h5py.string_dtype())
        g.create_dataset("residue_offsets", data=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        # A compact random-walk chain (3.8 Å steps) folded into a ball: ~10-20 neighbours within 8 Å.
        coords = []
        for r in lengths:
            steps = rng.standard_normal((r, 3)); steps *= 3.8 / np.linalg.norm(steps, axis=1, keepdims=True)
            c = np.cumsum(steps, axis=0); c -= c.mean(0); coords.append(c * 0.6 * (r / 300) ** (1 / 3 - 0.5))
        g.create_dataset("ca", data=np.concatenate(coords).astype(np.float32))


def prepare_molt5(d, rng, size="small"):
    D, L, H, KV, FF, V, FP = 768, 12, 12, 64, 2048, 35046, 4096
    w = {"shared.weight": rand(rng, V, D, scale=1.0), "encoder.molecule_fp_embed_tokens.weight": rand(rng, FP + 1, D, scale=1.0),
         "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": rand(rng, 32, H, scale=1.0),
         "encoder.final_layer_norm.weight": 1 + rand(rng, D, scale=0.1)}
    w["encoder.molecule_fp_embed_tokens.weight"][0] = 0
    for i in range(L):
        a, f = f"encoder.block.{i}.layer.0", f"encoder.block.{i}.layer.1"
        for n in "qkv":
            w[f"{a}.SelfAttention.{n}.weight"] = rand(rng, H * KV, D, scale=0.5 / math.sqrt(D))
        w[f"{a}.SelfAttention.o.weight"] = rand(rng, D, H * KV)
        w[f"{a}.layer_norm.weight"] = 1 + rand(rng, D, scale=0.1); w[f"{f}.layer_norm.weight"] = 1 + rand(rng, D, scale=0.1)
        w[f"{f}.DenseReluDense.wi_0.weight"] = rand(rng, FF, D); w[f"{f}.DenseReluDense.wi_1.weight"] = rand(rng, FF, D)
        w[f"{f}.DenseReluDense.wo.weight"] = rand(rng, D, FF)
    write_safetensors(f"{d}/weights.safetensors", w)
    json.dump({"d_model": D, "d_kv": KV, "num_heads": H, "d_ff": FF, "num_layers": L, "vocab_size": V, "feed_forward_proj": "gated-gelu",
               "layer_norm_epsilon": 1e-6, "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
               "fp_bits": FP, "emb_setting": "sum", "bom_id": 35045, "eom_id": 35044}, open(f"{d}/config.json", "w"))
    if size == "base":
        lengths = rng.integers(MOLT5_REAL["shortest"], MOLT5_REAL["longest"] + 1, MOLT5_REAL["items"])
    else:
        lengths = np.full(SIZES["molt5"]["items"], SIZES["molt5"]["tokens"])
    n = len(lengths)
    ids = np.concatenate([np.concatenate([[35045], rng.integers(32100, 35044, t - 3), [35044, 1]]) for t in lengths]).astype(np.int32)
    fp = rng.integers(-1, FP, (int(lengths.sum()), 4)).astype(np.int32)
    with h5py.File(f"{d}/input.h5", "w") as f:
        g = f.create_group("molecules")
        g.create_dataset("ids", data=[f"mol{i}" for i in range(n)], dtype=h5py.string_dtype())
        g.create_dataset("token_offsets", data=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        g.create_dataset("input_ids", data=ids)
        g.create_dataset("fp_tokens", data=fp)


def prepare_brainmae(d, rng, size="small"):
    windows = np.load(f"{d}/windows.npy") if size == "hcp" else None  # real time series, windows × frames × regions
    N = windows.shape[2] if windows is not None else 100
    tau, KM, dd, L, H, D, LE = 20, 64, 256, 3, 4, 256, 4
    w = {"tse.roi_embed": rand(rng, N, dd, scale=0.02 * 10), "tse.input_proj.weight": rand(rng, dd, tau), "tse.input_proj.bias": rand(rng, dd, scale=0.02),
         "tse.norm.weight": 1 + rand(rng, dd, scale=0.1), "tse.norm.bias": rand(rng, dd, scale=0.1),
         "tse.state_proj.weight": rand(rng, D, dd), "tse.state_proj.bias": rand(rng, D, scale=0.02),
         "encoder.cls_token": rand(rng, 1, 1, D, scale=0.02), "encoder.norm.weight": 1 + rand(rng, D, scale=0.1),
         "encoder.norm.bias": rand(rng, D, scale=0.1)}

    def block(p, width, graph):
        for n in ("norm1", "norm2"):
            w[f"{p}.{n}.weight"] = 1 + rand(rng, width, scale=0.1); w[f"{p}.{n}.bias"] = rand(rng, width, scale=0.1)
        if graph:
            for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
                w[f"{p}.attn.{n}.weight"] = rand(rng, width, width); w[f"{p}.attn.{n}.bias"] = rand(rng, width, scale=0.02)
        else:
            w[f"{p}.attn.qkv.weight"] = rand(rng, 3 * width, width); w[f"{p}.attn.qkv.bias"] = rand(rng, 3 * width, scale=0.02)
            w[f"{p}.attn.proj.weight"] = rand(rng, width, width); w[f"{p}.attn.proj.bias"] = rand(rng, width, scale=0.02)
        w[f"{p}.mlp.fc1.weight"] = rand(rng, 4 * width, width); w[f"{p}.mlp.fc1.bias"] = rand(rng, 4 * width, scale=0.02)
        w[f"{p}.mlp.fc2.weight"] = rand(rng, width, 4 * width); w[f"{p}.mlp.fc2.bias"] = rand(rng, width, scale=0.02)
    for l in range(L):
        block(f"tse.blocks.{l}", dd, True)
    for l in range(LE):
        block(f"encoder.blocks.{l}", D, False)
    write_safetensors(f"{d}/weights.safetensors", w)
    json.dump({"n_rois": N, "seg_len": tau, "max_segments": KM, "tse_type": "SG", "tse_dim": dd, "tse_depth": L, "tse_heads": H,
               "enc_dim": D, "enc_depth": LE, "enc_heads": H, "dec_dim": 128, "dec_depth": 2, "dec_heads": 4, "mlp_ratio": 4.0,
               "ln_eps": 1e-6}, open(f"{d}/config.json", "w"))
    sizes = BRAINMAE_REAL if size == "paper" else SIZES["brainmae"]
    n, T = windows.shape[:2] if windows is not None else (sizes["items"], sizes["frames"])
    series = windows.reshape(n * T, N) if windows is not None else rng.standard_normal((n * T, N))
    with h5py.File(f"{d}/input.h5", "w") as f:
        g = f.create_group("fmri")
        g.create_dataset("ids", data=[f"sub{i}" for i in range(n)], dtype=h5py.string_dtype())
        g.create_dataset("t_r", data=np.full(n, 0.72))
        g.create_dataset("region_ids", data=np.arange(1, N + 1, dtype=np.int64))
        g.create_dataset("timeseries_offsets", data=np.arange(n + 1, dtype=np.int64) * T)
        g.create_dataset("timeseries", data=series)


# ---------------------------------------------------------------------------------------------- models

def rounded_in_bf16(model, name):
    """The weights `bioembed encode --precision bf16` keeps in bfloat16 (its Linear layers but those it
    keeps in fp32: 3D-MolT5's feed-forward output projections `wo`)."""
    if model != "molt5":
        raise SystemExit("bf16-weights: only molt5 is described")
    return name.endswith(".weight") and (".SelfAttention." in name and "relative_attention_bias" not in name or ".DenseReluDense.wi" in name)


def bf16_rounded(model, arrays):
    """`arrays` with the weights `bioembed encode --precision bf16` holds in bfloat16 rounded to it (to
    nearest even, as it rounds them) and back to float32."""
    import torch
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(torch.bfloat16).float().numpy() if rounded_in_bf16(model, k) else v
            for k, v in arrays.items()}


def build(model, d, precision="fp32"):
    import torch
    import torch.nn.functional as F
    arrays = read_safetensors(f"{d}/weights.safetensors")
    if precision == "bf16-weights":  # fp32 arithmetic: what bf16 weight storage alone costs in accuracy
        arrays = bf16_rounded(model, arrays)
    w = {k: torch.from_numpy(v) for k, v in arrays.items()}  # arrays of their own: no copy
    cfg = json.load(open(f"{d}/config.json"))
    lin = lambda x, p, bias=True: F.linear(x, w[p + ".weight"], w[p + ".bias"] if bias else None)
    ln = lambda x, p, eps: F.layer_norm(x, x.shape[-1:], w[p + ".weight"], w[p + ".bias"], eps)

    if model == "pst":
        D, H, L = cfg["embed_dim"], cfg["num_heads"], cfg["num_layers"]
        hd = D // H
        with h5py.File(f"{d}/input.h5", "r") as f:
            g = f["proteins"]
            seqs = [s.decode() for s in g["sequence"][()]]
            ca, off = g["ca"][()], g["residue_offsets"][()]
        table = {c: i for i, c in enumerate(["<cls>", "<pad>", "<eos>", "<unk>", *"LAGVSERTIDPKQNFYMHWCXBUZO.-"])}
        inputs = []
        for i, s in enumerate(seqs):
            c = torch.from_numpy(ca[off[i]:off[i + 1]])
            adj = (torch.cdist(c, c) <= 8.0) & ~torch.eye(len(s), dtype=torch.bool)
            tgt, src = adj.nonzero(as_tuple=True)
            inputs.append((torch.tensor([0] + [table[x] for x in s] + [2]), src + 1, tgt + 1))

        def rotate(x, cos, sin):
            x1, x2 = x.chunk(2, dim=-1)
            return x * cos + torch.cat((-x2, x1), dim=-1) * sin

        def forward(item):
            tokens, src, tgt = item
            T = len(tokens)
            x = 0.88 * w["embed_tokens.weight"][tokens]
            t = torch.arange(T, dtype=torch.float32)
            freqs = torch.einsum("i,j->ij", t, w["layers.0.self_attn.rot_emb.inv_freq"])
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos()[None], emb.sin()[None]
            for l in range(L):
                p, a = f"layers.{l}", f"layers.{l}.self_attn"
                y = ln(x, f"{p}.self_attn_layer_norm", 1e-5)
                h, S = y, torch.zeros_like(y)
                for k in range(2):
                    s = f"{a}.struct_extractor"
                    agg = (1 + w[f"{s}.gnn.{k}.eps"]) * h + torch.zeros_like(h).index_add_(0, tgt, h[src])
                    u = lin(F.relu(lin(agg, f"{s}.gnn.{k}.nn.0")), f"{s}.gnn.{k}.nn.2")
                    z = F.batch_norm(u, w[f"{s}.batch_norms.{k}.running_mean"], w[f"{s}.batch_norms.{k}.running_var"],
                                     w[f"{s}.batch_norms.{k}.weight"], w[f"{s}.batch_norms.{k}.bias"], False, 0.0, 1e-5)
                    S = S + F.linear(z, w[f"{s}.out_projs.{k}.weight"])
                    h = F.relu(z)
                q = lin(y, f"{a}.q_proj") + F.linear(S, w[f"{a}.q_struct_proj.weight"])
                kk = lin(y, f"{a}.k_proj") + F.linear(S, w[f"{a}.k_struct_proj.weight"])
                v = lin(y, f"{a}.v_proj") + F.linear(S, w[f"{a}.v_struct_proj.weight"])
                q, kk, v = (m.view(T, H, hd).transpose(0, 1) for m in (q, kk, v))
                q, kk = rotate(q, cos, sin), rotate(kk, cos, sin)
                o = F.scaled_dot_product_attention(q[None], kk[None], v[None])[0].transpose(0, 1).reshape(T, D)
                x = x + lin(o, f"{a}.out_proj")
                x = x + lin(F.gelu(lin(ln(x, f"{p}.final_layer_norm", 1e-5), f"{p}.fc1")), f"{p}.fc2")
            return ln(x, "emb_layer_norm_after", 1e-5)
        run = lambda: [forward(item) for item in inputs]
        run.pool = lambda outs: np.stack([o[1:-1].float().mean(0).numpy() for o in outs])  # mean over residues
        return run

    if model == "molt5":
        D, H, KV, L = cfg["d_model"], cfg["num_heads"], cfg["d_kv"], cfg["num_layers"]
        with h5py.File(f"{d}/input.h5", "r") as f:
            g = f["molecules"]
            off = g["token_offsets"][()]
            all_ids, all_fp = g["input_ids"][()].astype(np.int64), g["fp_tokens"][()].astype(np.int64)
        batch = SIZES["molt5"]["batch"]
        # Hugging Face style: batches of 32 in file order, padded (id 0, fp −1) to the batch's longest.
        batches = []
        for s0 in range(0, len(off) - 1, batch):
            rows = range(s0, min(s0 + batch, len(off) - 1))
            t = max(off[i + 1] - off[i] for i in rows)
            ids = torch.zeros(len(rows), t, dtype=torch.long)
            fp = torch.full((len(rows), t, 4), -1, dtype=torch.long)
            keep = torch.zeros(len(rows), t, dtype=torch.bool)
            for b, i in enumerate(rows):
                n = off[i + 1] - off[i]
                ids[b, :n] = torch.from_numpy(all_ids[off[i]:off[i + 1]])
                fp[b, :n] = torch.from_numpy(all_fp[off[i]:off[i + 1]])
                keep[b, :n] = True
            batches.append((ids, fp, keep))
        rms = lambda x, p: w[p + ".weight"] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

        def position_bias(t):
            rel = torch.arange(t)[None, :] - torch.arange(t)[:, None]
            n = rel.abs()
            large = 8 + (torch.log(n.float().clamp(min=1) / 8) / math.log(128 / 8) * 8).to(torch.long)
            bucket = (rel > 0).long() * 16 + torch.where(n < 8, n, torch.clamp(large, max=15))
            return w["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"][bucket].permute(2, 0, 1)[None]

        def forward(ids, fp, keep):
            B, t = ids.shape
            bias = position_bias(t) + torch.where(keep, 0.0, torch.finfo(torch.float32).min)[:, None, None, :]
            x = 0.5 * w["shared.weight"][ids] + 0.5 * w["encoder.molecule_fp_embed_tokens.weight"][fp + 1].mean(2)
            for i in range(L):
                a, f = f"encoder.block.{i}.layer.0", f"encoder.block.{i}.layer.1"
                h = rms(x, f"{a}.layer_norm")
                q, k, v = (F.linear(h, w[f"{a}.SelfAttention.{m}.weight"]).view(B, t, H, KV).transpose(1, 2) for m in "qkv")
                scores = torch.matmul(q, k.transpose(-1, -2)) + bias
                o = torch.matmul(scores.float().softmax(-1).type_as(v), v).transpose(1, 2).reshape(B, t, H * KV)
                x = x + F.linear(o, w[f"{a}.SelfAttention.o.weight"])
                h = rms(x, f"{f}.layer_norm")
                g = F.gelu(F.linear(h, w[f"{f}.DenseReluDense.wi_0.weight"]), approximate="tanh") * F.linear(h, w[f"{f}.DenseReluDense.wi_1.weight"])
                x = x + F.linear(g, w[f"{f}.DenseReluDense.wo.weight"])
            return rms(x, "encoder.final_layer_norm")
        run = lambda: [forward(*b) for b in batches]
        # mean over non-pad tokens, per molecule in file order
        run.pool = lambda outs: np.concatenate([((o.float() * k[..., None]).sum(1) / k.sum(1, keepdim=True)).numpy()
                                                for o, (_, _, k) in zip(outs, batches)])
        return run

    # brainmae (SG)
    N, tau, dd, H, D = cfg["n_rois"], cfg["seg_len"], cfg["tse_dim"], cfg["tse_heads"], cfg["enc_dim"]
    with h5py.File(f"{d}/input.h5", "r") as f:
        g = f["fmri"]
        T = int(g["timeseries_offsets"][1])
        x = torch.from_numpy(g["timeseries"][()].astype(np.float32)).view(-1, T, N).transpose(1, 2)
    K = T // tau
    P = torch.zeros(cfg["max_segments"] + 1, D, dtype=torch.float64)
    om = 10000.0 ** (-torch.arange(D // 2, dtype=torch.float64) / (D // 2))
    pos = torch.arange(cfg["max_segments"] + 1, dtype=torch.float64)[:, None] * om
    P[:, :D // 2], P[:, D // 2:] = pos.sin(), pos.cos()
    P = P.float()

    def vit(xx, p, heads):
        B, S, W = xx.shape
        qkv = lin(ln(xx, p + ".norm1", 1e-6), p + ".attn.qkv").view(B, S, 3, heads, W // heads).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]).transpose(1, 2).reshape(B, S, W)
        xx = xx + lin(o, p + ".attn.proj")
        return xx + lin(F.gelu(lin(ln(xx, p + ".norm2", 1e-6), p + ".mlp.fc1")), p + ".mlp.fc2")

    def forward():
        z = (x - x.mean(-1, keepdim=True)) / (x.std(-1, unbiased=False, keepdim=True) + 1e-8)
        B = z.shape[0]
        segs = z[:, :, :K * tau].reshape(B, N, K, tau).permute(0, 2, 1, 3).reshape(B * K, N, tau)
        h = lin(segs, "tse.input_proj")
        E = w["tse.roi_embed"]
        hd = dd // H
        eye = torch.eye(N, dtype=torch.bool)
        for l in range(cfg["tse_depth"]):
            p = f"tse.blocks.{l}"
            q = lin(E, p + ".attn.q_proj").view(N, H, hd).transpose(0, 1)
            k = lin(E, p + ".attn.k_proj").view(N, H, hd).transpose(0, 1)
            A = (q @ k.transpose(-1, -2) / math.sqrt(hd)).masked_fill(eye, float("-inf")).softmax(-1)
            v = lin(ln(h, p + ".norm1", 1e-6), p + ".attn.v_proj").view(-1, N, H, hd).transpose(1, 2)
            h = h + lin((A[None] @ v).transpose(1, 2).reshape(-1, N, dd), p + ".attn.out_proj")
            h = h + lin(F.gelu(lin(ln(h, p + ".norm2", 1e-6), p + ".mlp.fc1")), p + ".mlp.fc2")
        s = lin(ln(h, "tse.norm", 1e-6).mean(1), "tse.state_proj").view(B, K, D)
        X = torch.cat([w["encoder.cls_token"].expand(B, 1, D), s], 1) + P[:K + 1]
        for l in range(cfg["enc_depth"]):
            X = vit(X, f"encoder.blocks.{l}", cfg["enc_heads"])
        return ln(X, "encoder.norm", 1e-6)[:, 0]
    forward.pool = lambda out: out.float().numpy()  # the [CLS] embedding of each run
    return forward


def main():
    mode, model, d = sys.argv[1:4]
    if mode == "round-weights":  # for a bioembed fp32 run that isolates what bf16 weight storage costs
        write_safetensors(f"{d}/weights-bf16-rounded.safetensors", bf16_rounded(model, read_safetensors(f"{d}/weights.safetensors")))
        return
    if mode == "prepare":
        size = sys.argv[4] if len(sys.argv) > 4 else "small"
        prepare = {"pst": prepare_pst, "molt5": prepare_molt5, "brainmae": prepare_brainmae}[model]
        prepare(d, np.random.default_rng(7), size)
        return
    threads, repeats = int(sys.argv[4]), int(sys.argv[5])
    precision = sys.argv[6] if len(sys.argv) > 6 else "fp32"
    import contextlib
    import torch
    torch.set_num_threads(threads)
    forward = build(model, d, precision)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    with torch.inference_mode(), autocast():
        outputs = forward()  # warm-up
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            forward()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    times.sort()
    record = {"tool": f"torch {torch.__version__}", "case": model, "precision": precision, "threads": threads, "seconds_median": times[len(times) // 2],
              "seconds_min": times[0], "cpu_seconds": sorted(cpu)[len(cpu) // 2],
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if len(sys.argv) > 7 and hasattr(forward, "pool"):
        np.save(sys.argv[7], forward.pool(outputs))  # pooled outputs, for the accuracy of autocast
    print(json.dumps(record))
if __name__ == "__main__":
    main()
