#!/usr/bin/env python3
"""Convert PyTorch checkpoints to the safetensors + config.json pair `bioembed encode` reads.

    scripts/convert_checkpoint.py pst   pst_t6.pt                 --output pst_t6
    scripts/convert_checkpoint.py molt5 3d-molt5-base/pytorch_model.bin --hf-config 3d-molt5-base/config.json \
                                        [--bom-id 35045 --eom-id 35044] --output molt5_base

writes `<output>.safetensors` and `<output>.json`. Needs PyTorch (and omegaconf for the PST
checkpoints, whose `cfg` is an OmegaConf object); nothing else. Tensor names are kept as in the
checkpoint (the Swift loader expects exactly these names):

* PST: `torch.save({"cfg", "state_dict"})` of BorgwardtLab/PST. The sizes (embed_dim, layers,
  heads, k_hop) are read from the tensor shapes, the graph radius from `cfg.data.graph_eps`.
  `lm_head.weight` (tied to `embed_tokens.weight`) is stored as a copy.
* 3D-MolT5: `pytorch_model.bin` of `FPT5ForConditionalGeneration`. The encoder, `shared.weight`
  and `encoder.molecule_fp_embed_tokens.weight` are kept; the decoder, `lm_head` and the tied
  `encoder.embed_tokens.weight` are dropped. The HF `config.json` is copied with `fp_bits`,
  `emb_setting`, `bom_id`, `eom_id` added. Read `<bom>`/`<eom>` from the released tokenizer
  files (docs/models.md, 3D-MolT5 pooling) and pass them with --bom-id/--eom-id.
"""
import argparse
import json
import re
import struct
import sys

import numpy as np

ESM1B = ["<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K", "Q", "N",
         "F", "Y", "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>", "<mask>"]
DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("float64"): "F64", np.dtype("int64"): "I64",
          np.dtype("int32"): "I32"}


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: numpy array} as safetensors (little-endian, 8-byte aligned header)."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        if array.dtype not in DTYPES:
            array = array.astype(np.float32)
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def to_numpy(state_dict):
    out = {}
    for name, value in state_dict.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu()
            if str(value.dtype) == "torch.bfloat16":
                value = value.float()
            value = value.numpy()
        out[name] = np.asarray(value)
    return out


def strip_prefix(state):
    for prefix in ("module.", "model."):
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def plain(cfg):
    """OmegaConf DictConfig or dict → dict."""
    try:
        from omegaconf import OmegaConf
        if OmegaConf.is_config(cfg):
            return OmegaConf.to_container(cfg, resolve=True)
    except ImportError:
        pass
    return cfg if isinstance(cfg, dict) else dict(cfg or {})


def convert_pst(checkpoint, output):
    import torch
    blob = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if not isinstance(blob, dict) or "state_dict" not in blob:
        sys.exit(f"{checkpoint}: expected torch.save({{'cfg', 'state_dict'}}), found keys {list(blob)[:5] if isinstance(blob, dict) else type(blob)}")
    cfg = plain(blob.get("cfg", {}))
    state = to_numpy(strip_prefix(dict(blob["state_dict"])))
    if "embed_tokens.weight" not in state:
        sys.exit(f"{checkpoint}: no embed_tokens.weight: not a PST/ESM-2 state_dict")
    vocab, dim = state["embed_tokens.weight"].shape
    layers = 1 + max(int(m.group(1)) for k in state for m in [re.match(r"layers\.(\d+)\.", k)] if m)
    inv = state.get("layers.0.self_attn.rot_emb.inv_freq")
    heads = dim // (2 * inv.shape[0]) if inv is not None else 20
    hops = 1 + max((int(m.group(1)) for k in state for m in [re.match(r"layers\.0\.self_attn\.struct_extractor\.gnn\.(\d+)\.", k)] if m), default=1)
    model_cfg, data_cfg = cfg.get("model", {}) or {}, cfg.get("data", {}) or {}
    if model_cfg.get("gnn_type", "gin") != "gin" or model_cfg.get("edge_dim"):
        sys.exit(f"{checkpoint}: gnn_type {model_cfg.get('gnn_type')} / edge_dim {model_cfg.get('edge_dim')}: only GIN without edge features is supported")
    state.setdefault("lm_head.weight", state["embed_tokens.weight"].copy())
    config = {
        "model": "PST", "base": model_cfg.get("name", "unknown"), "embed_dim": int(dim), "num_heads": int(heads),
        "num_layers": int(layers), "ffn_dim": int(state["layers.0.fc1.weight"].shape[0]), "head_dim": int(dim // heads),
        "k_hop": int(model_cfg.get("k_hop", hops)), "gnn_type": "gin", "use_edge_attr": False, "token_dropout": True,
        "alphabet": "ESM-1b", "vocab_size": int(vocab), "cls_idx": 0, "padding_idx": 1, "eos_idx": 2, "unk_idx": 3, "mask_idx": 32,
        "alphabet_tokens": ESM1B, "layer_norm_eps": 1e-5, "batch_norm_eps": 1e-5, "rotary_base": 10000.0,
        "graph": {"node_atom": "CA", "construction": "radius", "radius_angstrom": float(data_cfg.get("graph_eps", 8.0)),
                  "self_loops": False, "token_offset": 1},
        "max_residues": 1022,
    }
    return state, config


def convert_molt5(checkpoint, output, hf_config, bom, eom):
    import torch
    state = to_numpy(strip_prefix(dict(torch.load(checkpoint, map_location="cpu", weights_only=True))))
    if "encoder.molecule_fp_embed_tokens.weight" not in state:
        sys.exit(f"{checkpoint}: no encoder.molecule_fp_embed_tokens.weight: not a 3D-MolT5 checkpoint")
    keep = {k: v for k, v in state.items() if k == "shared.weight" or (k.startswith("encoder.") and k != "encoder.embed_tokens.weight")}
    with open(hf_config) as f:
        config = json.load(f)
    config.update({"fp_bits": int(state["encoder.molecule_fp_embed_tokens.weight"].shape[0] - 1), "emb_setting": "sum",
                   "bom_id": bom, "eom_id": eom, "vocab_size": int(state["shared.weight"].shape[0])})
    return keep, config


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["pst", "molt5"])
    parser.add_argument("checkpoint")
    parser.add_argument("--output", required=True, help="output prefix: writes PREFIX.safetensors and PREFIX.json")
    parser.add_argument("--hf-config", help="molt5: the HF config.json of the checkpoint")
    parser.add_argument("--bom-id", type=int, default=35045)
    parser.add_argument("--eom-id", type=int, default=35044)
    args = parser.parse_args()
    if args.model == "pst":
        tensors, config = convert_pst(args.checkpoint, args.output)
    else:
        if not args.hf_config:
            parser.error("molt5 needs --hf-config (the checkpoint's config.json)")
        tensors, config = convert_molt5(args.checkpoint, args.output, args.hf_config, args.bom_id, args.eom_id)
    write_safetensors(args.output + ".safetensors", tensors, {"source": args.checkpoint, "converter": "bioembed convert_checkpoint.py"})
    with open(args.output + ".json", "w") as f:
        json.dump(config, f, indent=1)
    print(f"{args.output}.safetensors: {len(tensors)} tensors; {args.output}.json")


if __name__ == "__main__":
    main()
