#!/usr/bin/env python3
"""Export feature extractors to TorchScript archives (torchscript:PATH) or ONNX (onnx:PATH) that
repbench loads.

Each archive carries a metadata.json (an extra file of the archive) that tells repbench what the
model outputs and how to prepare its input (see models/model_metadata.h):

    {"metadata_version": 1, "name": ..., "category": "CD/IR" | "PT" | "SSL",
     "output": "embedding" | "tokens", "dim": D, "tokens": T, "normalized": bool,
     "select": null | index | key, "preprocess": {"resize", "size", "crop", "interpolation",
     "mean", "std"}, "source": {...}}

Ways to use it:

  # the paper's ten extractors of Table 1 (needs internet, timm, and per-model packages)
  python3 scripts/export_models.py --out weights --models all
  python3 scripts/export_models.py --out weights --models sscd_imagenet_mixup,dino_vitb16_tokens

  # any torchvision architecture with random weights (offline; what the tests use), or a
  # stand-in of VIT_STANDINS (vit_tiny, a 2-layer ViT for tests; vit_s_16; clip_vit_b_16);
  # --tokens exports a ViT's tokens (split-product); --size sets the input (crop) size
  python3 scripts/export_models.py --out /tmp/m --random-weights resnet50 --seed 0
  python3 scripts/export_models.py --out /tmp/m --random-weights vit_tiny --tokens

  # ONNX instead of TorchScript (needs the onnx package): NAME.onnx with the metadata in its
  # metadata_props and in the sidecar NAME.onnx.json; OpenCV 4.6 runs ResNets, not ViT or Swin
  python3 scripts/export_models.py --out /tmp/m --random-weights resnet50 --format onnx

  # guided-diffusion's 256x256 ImageNet noise-prediction model (the one RePaint used), for
  # repbench synth dif-patch / dif-diagonal / inpaint (needs internet and guided_diffusion)
  python3 scripts/export_models.py --out weights --guided-diffusion 256x256_diffusion

  # a tiny convolutional model with metadata, for fast tests
  python3 scripts/export_models.py --out /tmp/m --tiny

  # PyTorch descriptors of PNG files with an exported model (reference for tests): the images
  # go through the same torchvision transforms as the metadata describes
  python3 scripts/export_models.py --reference /tmp/m/resnet50.pt --images a.png b.png \
      --reference-out ref.npy

A model whose package or weights are unavailable is reported and skipped; the others are still
exported, and the exit status is 1 when any requested model failed.

Preprocessing (--preprocess): "native" (default) is what each model's own repository documents
(docs/PROTOCOLS.md §1.3, §1.4, §7); "bob" is the Battle-of-the-Backbones retrieval harness used
for the real datasets of Table 1 (Resize(256, bicubic), CenterCrop(224), ImageNet mean/std);
"dcr" is the DCR code's generated-vs-train setting (Resize(256), CenterCrop(224),
mean = std = 0.5).
"""

import argparse
import json
import math
import os
import sys
import traceback

EXPORTER_VERSION = 1

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
HALF = [0.5, 0.5, 0.5]


class Unavailable(Exception):
    """A model cannot be exported here (missing package, weights not downloadable, ...)."""


def preprocess(resize="short_side", size=256, crop=224, interpolation="bilinear",
               mean=IMAGENET_MEAN, std=IMAGENET_STD):
    return {"resize": resize, "size": size if resize != "none" else 0, "crop": crop,
            "interpolation": interpolation, "mean": list(mean), "std": list(std)}


PROTOCOL_PREPROCESS = {
    "bob": preprocess("short_side", 256, 224, "bicubic"),
    "dcr": preprocess("short_side", 256, 224, "bilinear", HALF, HALF),
}


def metadata(name, category, output, dim, preprocess, tokens=1, normalized=False, select=None,
             source=None):
    return {"metadata_version": 1, "name": name, "category": category, "output": output,
            "dim": int(dim), "tokens": int(tokens), "normalized": bool(normalized),
            "select": select, "preprocess": preprocess,
            "source": dict(source or {}, exporter="scripts/export_models.py",
                           exporter_version=EXPORTER_VERSION)}


# ------------------------------------------------------------------------------------------------
# Saving and checking

def _torch():
    try:
        import torch
    except ImportError as e:
        raise Unavailable(f"PyTorch is not installed ({e})")
    return torch


def nominal_input_size(pre):
    if pre["crop"] > 0:
        return pre["crop"], pre["crop"]
    if pre["resize"] == "none":
        return 224, 224
    return pre["size"], pre["size"]


def select_output(out, select):
    if select is None:
        return out
    return out[select]


def to_torchscript(module, example):
    """torch.jit.script when it works (keeps control flow), else torch.jit.trace."""
    torch = _torch()
    module = module.eval()
    try:
        return torch.jit.script(module)
    except Exception as script_error:  # many hub/timm models are not scriptable
        try:
            with torch.no_grad():
                return torch.jit.trace(module, example, strict=False, check_trace=False)
        except Exception as trace_error:
            raise RuntimeError(f"neither script ({script_error}) nor trace ({trace_error}) "
                               "worked") from trace_error


def save(module, path, meta, scripted=None):
    """Saves `module` with `meta` as metadata.json and checks the output shape on a dummy batch."""
    torch = _torch()
    w, h = nominal_input_size(meta["preprocess"])
    example = torch.zeros(2, 3, h, w)
    if scripted is None:
        scripted = to_torchscript(module, example)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.jit.save(scripted, tmp, _extra_files={"metadata.json": json.dumps(meta, indent=2)})
    # Same check as repbench does at load time, so that a wrong metadata never leaves this script.
    loaded = torch.jit.load(tmp)
    with torch.no_grad():
        out = select_output(loaded(example), meta["select"])
    expected = ([2, meta["tokens"], meta["dim"]] if meta["output"] == "tokens"
                else [2, meta["dim"]])
    if list(out.shape) != expected:
        os.remove(tmp)
        raise RuntimeError(f"output {list(out.shape)} does not match metadata {expected}")
    os.replace(tmp, path)
    return path


ONNX_OPSET = 13  # the newest opset OpenCV 4.6's importer reads in full


class _Selected:
    """Wraps a module so that its output is the selected descriptor tensor (ONNX graphs have
    plain tensor outputs; the metadata's "select" is then null)."""

    def __new__(cls, module, select):
        import torch.nn as nn

        class Selected(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = module

            def forward(self, x):
                return select_output(self.m(x), select)

        return Selected()


def fold_identity_initializers(model):
    """Removes Identity nodes whose input is an initializer (torch exports shared constant
    tensors, e.g. the all-zero biases of an untrained model, that way; OpenCV 4.6 refuses them):
    their consumers read the initializer itself. Returns the number of nodes removed."""
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    outputs = {o.name for o in graph.output}
    rename = {}
    keep = []
    for node in graph.node:
        if (node.op_type == "Identity" and len(node.input) == 1 and
                node.input[0] in initializers and node.output[0] not in outputs):
            rename[node.output[0]] = node.input[0]
        else:
            keep.append(node)
    if not rename:
        return 0
    for node in keep:
        for i, name in enumerate(node.input):
            while name in rename:
                name = rename[name]
            node.input[i] = name
    del graph.node[:]
    graph.node.extend(keep)
    return len(rename)


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def save_onnx(module, path, meta):
    """Exports `module` to ONNX (dynamic batch axis, opset ONNX_OPSET, Identity-on-initializer
    nodes folded), with `meta` both in the file's metadata_props ("repbench.metadata") and in a
    sidecar PATH.json, and checks the graph's output shape against the metadata."""
    torch = _torch()
    try:
        import onnx
    except ImportError as e:
        raise Unavailable(f"--format onnx needs the onnx package (Debian: python3-onnx): {e}")
    if meta["select"] is not None:
        module = _Selected(module.eval(), meta["select"])
    meta = dict(meta, select=None)
    w, h = nominal_input_size(meta["preprocess"])
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    # With gradients on: under no_grad, nn.MultiheadAttention takes its fused fast path
    # (aten::_native_multi_head_attention), which has no ONNX export.
    torch.onnx.export(module.eval(), torch.zeros(2, 3, h, w), tmp, input_names=["input"],
                      output_names=["output"], opset_version=ONNX_OPSET,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    model = onnx.load(tmp)
    fold_identity_initializers(model)
    text = json.dumps(meta, indent=2)
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = "repbench.metadata", text
    onnx.checker.check_model(model)
    dims = [d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in model.graph.output[0].type.tensor_type.shape.dim]
    expected = ([meta["tokens"], meta["dim"]] if meta["output"] == "tokens" else [meta["dim"]])
    # Dimensions torch could not name as numbers stay symbolic (repbench checks them on load).
    if len(model.graph.output) != 1 or len(dims) != 1 + len(expected) or any(
            isinstance(d, int) and d != e for d, e in zip(dims[1:], expected)):
        os.remove(tmp)
        raise RuntimeError(f"ONNX output {dims} does not match metadata [batch, {expected}]")
    onnx.save(model, tmp)
    _write_atomic(path + ".json", text + "\n")
    os.replace(tmp, path)
    return path


def write_model(module, base, meta, fmt, scripted=None):
    """BASE.pt (TorchScript, metadata.json inside) or BASE.onnx + BASE.onnx.json."""
    if fmt == "onnx":
        return save_onnx(scripted if scripted is not None else module, base + ".onnx", meta)
    return save(module, base + ".pt", meta, scripted=scripted)


def output_dim(module, pre, select=None):
    torch = _torch()
    w, h = nominal_input_size(pre)
    with torch.no_grad():
        out = select_output(module.eval()(torch.zeros(1, 3, h, w)), select)
    return list(out.shape[1:])


# ------------------------------------------------------------------------------------------------
# Random-weight torchvision models and the tiny test model

def strip_classifier(model):
    """Replaces the classification head of a torchvision model by Identity (features out)."""
    import torch.nn as nn
    for attr in ("fc", "heads", "head"):
        if isinstance(getattr(model, attr, None), nn.Module):
            setattr(model, attr, nn.Identity())
            return model
    cls = getattr(model, "classifier", None)
    if isinstance(cls, nn.Sequential):
        for i in reversed(range(len(cls))):
            if isinstance(cls[i], nn.Linear):
                cls[i] = nn.Identity()
                return model
    if isinstance(cls, nn.Module):
        model.classifier = nn.Identity()
        return model
    raise Unavailable("cannot find the classification head to remove")


def vit_all_tokens(vit):
    """A torchvision VisionTransformer returning all tokens after the final LayerNorm ([B, 1 + N,
    D], CLS first, patches in raster order), as DCR's DINO with global_pool='' (split-product)."""
    import torch
    import torch.nn as nn

    class AllTokens(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            x = self.m._process_input(x)
            cls = self.m.class_token.expand(x.shape[0], -1, -1)
            return self.m.encoder(torch.cat([cls, x], dim=1))

    return AllTokens(vit)


def clip_vision_tower(vit):
    """CLIP's image tower as open_clip / timm build it (pre_norm=True): a LayerNorm on the
    patch + position embeddings before the blocks (ln_pre), the final LayerNorm, the CLS token
    out (before the projection). Built around a torchvision VisionTransformer."""
    import torch
    import torch.nn as nn

    class ClipTower(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m
            self.ln_pre = nn.LayerNorm(m.hidden_dim, eps=1e-6)

        def forward(self, x):
            x = self.m._process_input(x)
            cls = self.m.class_token.expand(x.shape[0], -1, -1)
            x = torch.cat([cls, x], dim=1) + self.m.encoder.pos_embedding
            x = self.m.encoder.ln(self.m.encoder.layers(self.ln_pre(x)))
            return x[:, 0]

    return ClipTower(vit)


# Same-structure stand-ins of the paper's architectures that torchvision does not define (built
# from its VisionTransformer class): ViT-S/16 as timm's vit_small_patch16_224, CLIP's ViT-B/16
# image tower, and vit_tiny, a 2-layer, 64-wide ViT small enough for unit tests.
VIT_STANDINS = {
    "vit_tiny": dict(num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128),
    "vit_s_16": dict(num_layers=12, num_heads=6, hidden_dim=384, mlp_dim=1536),
    "clip_vit_b_16": dict(num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072),
}


def build_random(arch, seed=0, size=224, tokens=False):
    """torchvision ARCH (or a stand-in of VIT_STANDINS) with random weights, classification
    head removed, in eval mode, and its metadata. tokens=True (ViTs only) outputs all tokens
    instead of the CLS embedding. Deterministic in (arch, seed, size, tokens)."""
    torch = _torch()
    try:
        import torchvision
    except ImportError as e:
        raise Unavailable(f"torchvision is not installed ({e})")
    torch.manual_seed(seed)
    if arch in VIT_STANDINS:
        from torchvision.models.vision_transformer import VisionTransformer
        model = VisionTransformer(image_size=size, patch_size=16, **VIT_STANDINS[arch])
    else:
        builder = getattr(torchvision.models, arch, None)
        if builder is None or not callable(builder):
            raise Unavailable(f"torchvision.models has no architecture {arch!r}")
        try:
            model = builder(weights=None, image_size=size) if arch.startswith("vit_") else \
                builder(weights=None)
        except TypeError:  # torchvision < 0.13
            model = builder(pretrained=False)
    model = strip_classifier(model).eval()
    if arch == "clip_vit_b_16":
        if tokens:
            raise Unavailable("--tokens is not defined for clip_vit_b_16")
        model = clip_vision_tower(model).eval()
    if tokens:
        if not hasattr(model, "class_token"):
            raise Unavailable(f"--tokens needs a ViT; {arch} has no class token")
        model = vit_all_tokens(model).eval()
    pre = preprocess("short_side", int(round(size * 256 / 224)), size, "bilinear")
    shape = output_dim(model, pre)
    src = {"arch": arch if arch in VIT_STANDINS else f"torchvision.models.{arch}",
           "weights": "random", "seed": seed}
    title = f"{arch} (random weights, seed {seed}{', all tokens' if tokens else ''})"
    if tokens:
        meta = metadata(title, "PT", "tokens", shape[1], pre, tokens=shape[0], source=src)
    else:
        if len(shape) != 1:
            raise Unavailable(f"{arch} gives features of shape {shape}, expected one vector")
        meta = metadata(title, "PT", "embedding", shape[0], pre, source=src)
    return model, meta


def export_random(arch, out_dir, seed=0, size=224, name=None, tokens=False, fmt="torchscript"):
    """Writes build_random(...) to OUT_DIR/NAME.pt (TorchScript) or NAME.onnx (+ NAME.onnx.json)."""
    model, meta = build_random(arch, seed, size, tokens)
    default_name = arch + ("_tokens" if tokens else "")
    return write_model(model, os.path.join(out_dir, name or default_name), meta, fmt)


def tiny_module(kind="embedding", seed=0):
    """A few convolutions and a pooling: 64x64 input, 16-d embedding (or 16 tokens of 16-d, a
    (tokens, embedding) tuple, or a dict)."""
    torch = _torch()
    import torch.nn as nn
    from typing import Dict, Tuple

    torch.manual_seed(seed)

    class TinyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.c3 = nn.Conv2d(16, 16, 3, stride=4, padding=1)  # 64 -> 32 -> 16 -> 4

        def tokens(self, x):
            x = torch.relu(self.c1(x))
            x = torch.relu(self.c2(x))
            x = self.c3(x)
            return x.flatten(2).transpose(1, 2)  # [B, 16 positions, 16 channels]

        def forward(self, x):
            return self.tokens(x).mean(1)

    class TinyTokens(TinyNet):
        def forward(self, x):
            return self.tokens(x)

    class TinyTuple(TinyNet):
        def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
            t = self.tokens(x)
            return t, t.mean(1)

    class TinyDict(TinyNet):
        def forward(self, x) -> Dict[str, torch.Tensor]:
            e = self.tokens(x).mean(1)
            return {"embedding": e, "normalized_embedding": nn.functional.normalize(e, dim=1)}

    class TinyNoisy(TinyNet):
        # Random noise on the output: no two calls agree, so an optimized graph can never be
        # shown equal to the original (the fallback path of repbench's graph check).
        def forward(self, x):
            e = self.tokens(x).mean(1)
            return e + torch.rand_like(e)

    return {"embedding": TinyNet, "tokens": TinyTokens, "tuple": TinyTuple,
            "dict": TinyDict, "noisy": TinyNoisy}[kind]()


def export_tiny(out_dir, name="tiny", kind="embedding", seed=0, meta_overrides=None,
                with_metadata=True):
    """Writes the tiny model. meta_overrides / with_metadata=False write deliberately wrong or
    missing metadata (for tests of repbench's checks), without the self-check."""
    pre = preprocess("square", 64, 0, "bilinear")
    if kind == "tokens":
        meta = metadata("tiny test model (tokens)", "SSL", "tokens", 16, pre, tokens=16)
    elif kind == "tuple":
        meta = metadata("tiny test model (tuple)", "SSL", "embedding", 16, pre, select=1)
    elif kind == "dict":
        meta = metadata("tiny test model (dict)", "CD/IR", "embedding", 16, pre, normalized=True,
                        select="normalized_embedding")
    elif kind == "noisy":
        meta = metadata("tiny test model (noisy)", "PT", "embedding", 16, pre)
    else:
        meta = metadata("tiny test model", "PT", "embedding", 16, pre)
    meta["source"].update({"arch": f"tiny/{kind}", "weights": "random", "seed": seed})
    module = tiny_module(kind, seed).eval()
    path = os.path.join(out_dir, name + ".pt")
    if meta_overrides is None and with_metadata:
        return save(module, path, meta)
    torch = _torch()
    meta.update(meta_overrides or {})
    extra = {"metadata.json": json.dumps(meta)} if with_metadata else {}
    os.makedirs(out_dir, exist_ok=True)
    torch.jit.save(torch.jit.script(module), path, _extra_files=extra)
    return path


# ------------------------------------------------------------------------------------------------
# The paper's ten extractors (Table 1) and the DINO CLS variant

def _timm():
    try:
        import timm
    except ImportError as e:
        raise Unavailable(f"timm is not installed (pip install timm): {e}")
    return timm


def timm_preprocess(model):
    """The preprocessing timm documents for a model (its pretrained_cfg)."""
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", {})
    size = cfg.get("input_size", (3, 224, 224))[-1]
    crop_pct = cfg.get("crop_pct", 0.875)
    interp = cfg.get("interpolation", "bicubic")
    if interp not in ("bilinear", "bicubic", "lanczos"):
        interp = "bicubic"
    return preprocess("short_side", int(math.floor(size / crop_pct)), size, interp,
                      cfg.get("mean", IMAGENET_MEAN), cfg.get("std", IMAGENET_STD))


def build_timm(name, title, category):
    def build(args):
        timm = _timm()
        try:
            model = timm.create_model(name, pretrained=True, num_classes=0).eval()
        except Exception as e:
            raise Unavailable(f"timm.create_model({name!r}, pretrained=True): {e}")
        pre = timm_preprocess(model)
        dim = output_dim(model, pre)[0]
        return model, metadata(title, category, "embedding", dim, pre,
                               source={"weights": f"timm:{name}"})
    return build


def build_sscd(variant):
    url = f"https://dl.fbaipublicfiles.com/sscd-copy-detection/{variant}.torchscript.pt"

    def build(args):
        torch = _torch()
        path = args.checkpoint or os.path.join(args.cache, f"{variant}.torchscript.pt")
        if not os.path.exists(path):
            try:
                os.makedirs(args.cache, exist_ok=True)
                torch.hub.download_url_to_file(url, path)
            except Exception as e:
                raise Unavailable(f"cannot download {url}: {e}")
        model = torch.jit.load(path).eval()
        # SSCD README: Resize(288) on the short side, aspect kept, ImageNet mean/std.
        pre = preprocess("short_side", 288, 0, "bilinear")
        dim = 1024 if "large" in variant else 512
        meta = metadata(f"SSCD {variant}", "CD/IR", "embedding", dim, pre, normalized=True,
                        source={"weights": url})
        return model, meta
    return build


def build_dino(tokens):
    def build(args):
        torch = _torch()
        import torch.nn as nn
        try:
            model = torch.hub.load("facebookresearch/dino:main", "dino_vitb16")
        except Exception as e:
            raise Unavailable(f"torch.hub facebookresearch/dino dino_vitb16: {e}")
        # DINO eval_linear / eval_knn: Resize(256, bicubic), CenterCrop(224), ImageNet.
        pre = preprocess("short_side", 256, 224, "bicubic")
        src = {"weights": "torch.hub facebookresearch/dino:main dino_vitb16"}
        if not tokens:
            return model.eval(), metadata("DINO ViT-B/16 (CLS)", "SSL", "embedding", 768, pre,
                                          source=src)

        class AllTokens(nn.Module):
            """All tokens after the final norm (CLS first), as DCR's global_pool=''."""

            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                return self.m.get_intermediate_layers(x, 1)[0]

        return AllTokens(model).eval(), metadata(
            "DINO ViT-B/16 (all tokens, split-product)", "SSL", "tokens", 768, pre, tokens=197,
            source=src)
    return build


def build_vicregl(args):
    torch = _torch()
    try:
        model = torch.hub.load("facebookresearch/VICRegL:main", "resnet50_alpha0p9")
    except Exception as e:
        raise Unavailable(f"torch.hub facebookresearch/VICRegL resnet50_alpha0p9: {e}")
    pre = preprocess("short_side", 256, 224, "bilinear")  # VICRegL evaluate.py
    return model.eval(), metadata("VICRegL ResNet-50 (alpha 0.9)", "SSL", "embedding", 2048, pre,
                                  select=1, source={"weights": "torch.hub VICRegL "
                                                    "resnet50_alpha0p9", "output": "(local, "
                                                    "global): index 1 = global"})


def build_multigrain(args):
    torch = _torch()
    url = "https://dl.fbaipublicfiles.com/multigrain/multigrain_models/joint_3B_0.5.pth"
    try:
        from multigrain.lib import get_multigrain  # a clone of facebookresearch/multigrain
    except ImportError as e:
        raise Unavailable(f"facebookresearch/multigrain is not on PYTHONPATH ({e})")
    path = args.checkpoint or os.path.join(args.cache, "joint_3B_0.5.pth")
    if not os.path.exists(path):
        try:
            os.makedirs(args.cache, exist_ok=True)
            torch.hub.download_url_to_file(url, path)
        except Exception as e:
            raise Unavailable(f"cannot download {url}: {e}")
    model = get_multigrain("resnet50")
    state = torch.load(path, map_location="cpu")
    model.load_state_dict(state.get("model_state", state))
    # MultiGrain resizes the *largest* side (its Resize(largest=True)), no crop; 500 px is the
    # retrieval resolution of its paper [UNVERIFIED: check the checkpoint's evaluation size].
    pre = preprocess("long_side", 500, 0, "bilinear")
    return model.eval(), metadata("MultiGrain ResNet-50 (joint 3B, 0.5)", "CD/IR", "embedding",
                                  2048, pre, normalized=True, select="normalized_embedding",
                                  source={"weights": url})


def build_mocov3(cutmix):
    url = "https://dl.fbaipublicfiles.com/moco-v3/vit-b-300ep/vit-b-300ep.pth.tar"

    def build(args):
        torch = _torch()
        timm = _timm()
        if cutmix and not args.checkpoint:
            raise Unavailable("the MoCo v3 + CutMix weights are not public: pass --checkpoint "
                              "PATH to your fine-tuned checkpoint")
        path = args.checkpoint or os.path.join(args.cache, "vit-b-300ep.pth.tar")
        if not os.path.exists(path):
            try:
                os.makedirs(args.cache, exist_ok=True)
                torch.hub.download_url_to_file(url, path)
            except Exception as e:
                raise Unavailable(f"cannot download {url}: {e}")
        ckpt = torch.load(path, map_location="cpu")
        state = ckpt.get("state_dict", ckpt)
        prefix = "module.base_encoder."
        state = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix) and not k.startswith(prefix + "head")}
        model = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=0)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or [k for k in missing if not k.startswith("head")]:
            raise Unavailable(f"{path}: not a MoCo v3 ViT-B/16 checkpoint (missing {missing[:3]}, "
                              f"unexpected {unexpected[:3]})")
        pre = preprocess("short_side", 256, 224, "bilinear")  # moco-v3 main_lincls.py
        title = "MoCo v3 ViT-B/16" + (" + CutMix" if cutmix else "")
        return model.eval(), metadata(title, "SSL", "embedding", 768, pre,
                                      source={"weights": path if cutmix else url})
    return build


PAPER_MODELS = {
    # key: (builder, one-line description)
    "multigrain_resnet50": (build_multigrain, "MultiGrain ResNet-50 (CD/IR)"),
    "sscd_imagenet_mixup": (build_sscd("sscd_imagenet_mixup"), "SSCD ResNet-50 ImageNet (CD/IR)"),
    "vit_s16": (build_timm("vit_small_patch16_224", "ViT-S/16 (IN-1k)", "PT"), "ViT-S/16 (PT)"),
    "vit_b16_in21k": (build_timm("vit_base_patch16_224.augreg_in21k", "ViT-B/16 (IN-21k)", "PT"),
                      "ViT-B/16 IN-21k (PT)"),
    "clip_vit_b16_laion": (build_timm("vit_base_patch16_clip_224.laion2b",
                                      "CLIP ViT-B/16 (LAION-2B)", "PT"), "CLIP ViT-B/16 (PT)"),
    "swin_b": (build_timm("swin_base_patch4_window7_224", "Swin-B (patch 4, window 7)", "PT"),
               "Swin-B (PT)"),
    "mocov3_vit_b16": (build_mocov3(False), "MoCo v3 ViT-B/16 (SSL)"),
    "mocov3_vit_b16_cutmix": (build_mocov3(True), "MoCo v3 ViT-B/16 + CutMix (SSL, --checkpoint)"),
    "vicregl_resnet50": (build_vicregl, "VICRegL ResNet-50 (SSL)"),
    "dino_vitb16_tokens": (build_dino(True), "DINO ViT-B/16 all tokens, split-product (SSL)"),
}
EXTRA_MODELS = {
    "sscd_disc_mixup": (build_sscd("sscd_disc_mixup"), "SSCD ResNet-50 DISC (CD/IR)"),
    "dino_vitb16_cls": (build_dino(False), "DINO ViT-B/16 CLS (SSL)"),
}
ALL_MODELS = dict(PAPER_MODELS, **EXTRA_MODELS)


def export_named(key, args):
    build, _ = ALL_MODELS[key]
    module, meta = build(args)
    if args.preprocess != "native":
        meta["preprocess"] = dict(PROTOCOL_PREPROCESS[args.preprocess])
        meta["source"]["preprocess"] = args.preprocess
    torch = _torch()
    scripted = module if isinstance(module, torch.jit.ScriptModule) else None
    return write_model(module, os.path.join(args.out, key), meta, args.format, scripted)


# ------------------------------------------------------------------------------------------------
# Diffusion noise-prediction (eps) models for `repbench synth dif-patch|dif-diagonal|inpaint`

GUIDED_DIFFUSION_MODELS = {
    # RePaint's ImageNet model (confs/test_inet256_*.yml): class-conditional, learned sigma.
    "256x256_diffusion": ("https://openaipublic.blob.core.windows.net/diffusion/jul-2021/"
                          "256x256_diffusion.pt", True),
    "256x256_diffusion_uncond": ("https://openaipublic.blob.core.windows.net/diffusion/jul-2021/"
                                 "256x256_diffusion_uncond.pt", False),
}


def eps_metadata(name, image_size, num_classes, learn_sigma, source):
    """metadata.json of an eps-model (diffusion/model_config.h)."""
    return {"kind": "ddpm-eps", "image_size": image_size, "channels": 3, "timesteps": 1000,
            "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02,
            "num_classes": num_classes, "learn_sigma": learn_sigma, "name": name,
            "source": dict(source, exporter="scripts/export_models.py",
                           exporter_version=EXPORTER_VERSION)}


def export_guided_diffusion(variant, out_dir, checkpoint=None, cache=None):
    """guided-diffusion's 256x256 ImageNet UNet as a TorchScript eps-model (fp32).

    Needs the guided_diffusion package (pip install git+https://github.com/openai/guided-diffusion)
    and the weights (downloaded to `cache`, or --checkpoint). The model is traced with its
    (x, t[, y]) signature; its output is [B, 6, 256, 256]: eps, then the learned-range variance.
    """
    torch = _torch()
    try:
        from guided_diffusion.script_util import create_model
    except ImportError as e:
        raise Unavailable("the guided_diffusion package is not installed (pip install "
                          f"git+https://github.com/openai/guided-diffusion): {e}")
    url, class_cond = GUIDED_DIFFUSION_MODELS[variant]
    path = checkpoint or os.path.join(cache, f"{variant}.pt")
    if not os.path.exists(path):
        try:
            os.makedirs(cache, exist_ok=True)
            torch.hub.download_url_to_file(url, path)
        except Exception as e:
            raise Unavailable(f"cannot download {url}: {e}")
    # The flags of guided-diffusion's README for these checkpoints (= RePaint's ImageNet config).
    model = create_model(image_size=256, num_channels=256, num_res_blocks=2, channel_mult="",
                         learn_sigma=True, class_cond=class_cond, use_checkpoint=False,
                         attention_resolutions="32,16,8", num_heads=4, num_head_channels=64,
                         num_heads_upsample=-1, use_scale_shift_norm=True, dropout=0.0,
                         resblock_updown=True, use_fp16=False, use_new_attention_order=False)
    model.load_state_dict(torch.load(path, map_location="cpu"))
    model.eval()

    class Conditional(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, t, y):
            return self.m(x, t, y)

    class Unconditional(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, t):
            return self.m(x, t)

    x = torch.randn(2, 3, 256, 256)
    t = torch.tensor([999, 10], dtype=torch.long)
    y = torch.tensor([1, 2], dtype=torch.long)
    wrapper = (Conditional(model) if class_cond else Unconditional(model)).eval()
    inputs = (x, t, y) if class_cond else (x, t)
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, inputs, check_trace=False)
        meta = eps_metadata(f"guided-diffusion {variant}", 256, 1000 if class_cond else 0, True,
                            {"weights": url, "paper": "Dhariwal & Nichol 2021",
                             "used_by": "RePaint (Lugmayr et al. 2022) ImageNet configuration"})
        os.makedirs(out_dir, exist_ok=True)
        out = os.path.join(out_dir, variant + ".pt")
        tmp = out + ".tmp"
        torch.jit.save(traced, tmp, _extra_files={"metadata.json": json.dumps(meta, indent=2)})
        # The check repbench makes on every batch: [B, 2C, H, W] with learn_sigma.
        got = torch.jit.load(tmp)(*inputs)
        if list(got.shape) != [2, 6, 256, 256]:
            os.remove(tmp)
            raise RuntimeError(f"output {list(got.shape)} is not [2, 6, 256, 256]")
        ref = wrapper(*inputs)
        if not torch.allclose(got, ref, atol=1e-4, rtol=1e-4):
            os.remove(tmp)
            raise RuntimeError("the traced model does not reproduce the original's output")
    os.replace(tmp, out)
    return out


# ------------------------------------------------------------------------------------------------
# Reference descriptors (for tests)

def torchvision_transform(pre):
    """The metadata's preprocessing as torchvision transforms on PIL images (what the reference
    Python code of each model does)."""
    import torchvision.transforms as T

    interp = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC,
              "lanczos": T.InterpolationMode.LANCZOS, "area": T.InterpolationMode.BOX}
    steps = []
    mode = interp[pre["interpolation"]]
    if pre["resize"] == "short_side":
        steps.append(T.Resize(pre["size"], interpolation=mode))
    elif pre["resize"] == "square":
        steps.append(T.Resize((pre["size"], pre["size"]), interpolation=mode))
    elif pre["resize"] == "thumbnail":
        def thumb(im, n=pre["size"], m=mode):
            im = im.copy()
            im.thumbnail((n, n), resample=T.functional.pil_modes_mapping[m], reducing_gap=None)
            return im
        steps.append(T.Lambda(thumb))
    elif pre["resize"] == "long_side":
        raise SystemExit("reference: long_side is not implemented here")
    if pre["crop"] > 0:
        steps.append(T.CenterCrop(pre["crop"]))
    steps += [T.ToTensor(), T.Normalize(pre["mean"], pre["std"])]
    return T.Compose(steps)


def descriptors(model, meta, images):
    """[n, ...] float32 descriptors of image files by `model` (an eager or TorchScript module),
    one image at a time, preprocessed as `meta` says."""
    torch = _torch()
    import numpy as np
    from PIL import Image

    transform = torchvision_transform(meta["preprocess"])
    rows = []
    with torch.no_grad():
        for path in images:
            x = transform(Image.open(path).convert("RGB")).unsqueeze(0)
            rows.append(select_output(model(x), meta["select"])[0].numpy().astype(np.float32))
    return np.stack(rows)


def reference(model_path, images, out_npy):
    """Runs an exported TorchScript model on image files (see descriptors), writes [n, ...]
    float32 to out_npy."""
    torch = _torch()
    import numpy as np

    extra = {"metadata.json": ""}
    model = torch.jit.load(model_path, _extra_files=extra).eval()
    np.save(out_npy, descriptors(model, json.loads(extra["metadata.json"]), images))
    return out_npy


# ------------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="weights", help="output folder (default: weights)")
    p.add_argument("--models", help="comma-separated keys of the paper's models, or 'all'")
    p.add_argument("--list", action="store_true", help="list the known model keys")
    p.add_argument("--format", choices=["torchscript", "onnx"], default="torchscript",
                   help="torchscript (NAME.pt, metadata.json inside) or onnx (NAME.onnx and its "
                   "metadata in NAME.onnx.json and in the file's metadata_props; read by "
                   "repbench through OpenCV's DNN module as onnx:PATH)")
    p.add_argument("--preprocess", choices=["native", "bob", "dcr"], default="native",
                   help="preprocessing written to the metadata (default: native)")
    p.add_argument("--checkpoint", help="local weights file (MoCo v3 + CutMix, or instead of a "
                   "download)")
    p.add_argument("--cache", default=os.path.expanduser("~/.cache/repbench"),
                   help="where downloaded weights are kept")
    p.add_argument("--random-weights", metavar="ARCH",
                   help="export torchvision ARCH (resnet18, resnet50, vit_b_16, swin_b, ...) or a "
                   "stand-in (vit_tiny, vit_s_16, clip_vit_b_16) with random weights")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    p.add_argument("--size", type=int, default=224, help="input size for --random-weights")
    p.add_argument("--tokens", action="store_true",
                   help="with --random-weights on a ViT: export all tokens (split-product)")
    p.add_argument("--name", help="output file name (without .pt) for --random-weights/--tiny")
    p.add_argument("--tiny", action="store_true", help="export a tiny test model")
    p.add_argument("--tiny-kind", choices=["embedding", "tokens", "tuple", "dict", "noisy"],
                   default="embedding")
    p.add_argument("--reference", metavar="MODEL_PT",
                   help="compute PyTorch descriptors of --images with MODEL_PT")
    p.add_argument("--images", nargs="*", default=[])
    p.add_argument("--reference-out", help="output .npy of --reference")
    p.add_argument("--guided-diffusion", metavar="VARIANT", choices=list(GUIDED_DIFFUSION_MODELS),
                   help="export guided-diffusion's 256x256 ImageNet eps-model for repbench synth "
                   "dif-patch/dif-diagonal/inpaint: 256x256_diffusion (class-conditional, the one "
                   "RePaint used) or 256x256_diffusion_uncond")
    args = p.parse_args(argv)

    if args.list:
        for key, (_, desc) in ALL_MODELS.items():
            tag = "paper" if key in PAPER_MODELS else "extra"
            print(f"{key:24s} {tag:6s} {desc}")
        return 0
    try:
        if args.reference:
            if not args.reference_out:
                p.error("--reference needs --reference-out")
            print(reference(args.reference, args.images, args.reference_out))
            return 0
        if args.random_weights:
            print(export_random(args.random_weights, args.out, args.seed, args.size, args.name,
                                args.tokens, args.format))
            return 0
        if args.tiny:
            print(export_tiny(args.out, args.name or "tiny", args.tiny_kind, seed=args.seed))
            return 0
        if args.guided_diffusion:
            print(export_guided_diffusion(args.guided_diffusion, args.out, args.checkpoint,
                                          args.cache))
            return 0
    except Unavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not args.models:
        p.error("nothing to do: give --models, --random-weights, --tiny, --guided-diffusion, "
                "--reference or --list")
    keys = list(PAPER_MODELS) if args.models == "all" else args.models.split(",")
    unknown = [k for k in keys if k not in ALL_MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(ALL_MODELS)}")
    failed = 0
    for key in keys:
        try:
            print(f"{key}: wrote {export_named(key, args)}", flush=True)
        except Unavailable as e:
            failed += 1
            print(f"{key}: skipped: {e}", file=sys.stderr, flush=True)
        except Exception as e:  # one model's failure must not stop the others
            failed += 1
            print(f"{key}: failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            if os.environ.get("REPBENCH_DEBUG"):
                traceback.print_exc()
    print(f"{len(keys) - failed} of {len(keys)} exported to {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
