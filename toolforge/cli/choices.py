"""The values of the CLI's choice options, importable without loading the library.

``--help`` must not import pydantic, DuckDB or the registries, so the names are
listed here as ``Literal`` types: typer shows them in ``--help`` and rejects any
other value with a one-line usage error. ``tests/unit/cli/test_conventions.py``
checks that each one equals the registry it mirrors (adding a format or an engine
there without adding it here fails that test, not the user).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

Scenario = Literal["single_tool", "multi_tool_parallel", "multi_tool_sequential", "no_tool_needed",
                   "error_recovery", "reasoning_heavy", "complex_multi_step"]   # toolforge.record.SCENARIOS
Status = Literal["any", "valid", "invalid", "unvalidated", "accepted", "rejected", "needs_fix", "reviewed",
                 "unreviewed", "curated"]                                       # toolforge.store.STATUSES
ImportFormat = Literal["toolforge", "openai", "xlam", "hermes", "glaive", "sharegpt", "toolace",
                       "bfcl"]                                                  # toolforge.importers.FORMATS
ExportFormat = Literal["openai", "trl", "sharegpt", "hermes", "lfm2-audio"]   # toolforge.export.FORMATS
ThinkMode = Literal["tags", "field", "drop"]                                    # toolforge.export.convert.THINK_MODES
ToolMarkup = Literal["tag", "lfm2", "action"]                                   # toolforge.audio.lfm2.MARKUPS
Family = Literal["hermes", "llama3_json", "pythonic", "mistral", "lfm2", "phi4_mini", "deepseek_v3",
                 "xlam"]                                                        # toolforge.formats.FAMILIES
DedupMethod = Literal["exact", "near", "semantic"]                              # toolforge.dedup.METHODS
DedupEngine = Literal["duckdb", "datasketch"]                                   # toolforge.dedup.minhash.ENGINES
MatchMode = Literal["exact", "bfcl"]                                            # toolforge.evaluate.score.MATCH_MODES
TTSEngine = Literal["espeak", "pyttsx3", "piper", "coqui"]                      # toolforge.audio.engines.ENGINES
AudioFormat = Literal["wav", "flac"]                                            # toolforge.audio.run.TTSConfig.format
Replies = Literal["per-turn", "final", "none"]                                  # toolforge.audio.text.REPLIES
ReviewConfig = Literal["auto", "text", "audio"]                                 # "auto" + toolforge.review.config.CONFIG_KINDS
Dialect = Literal["auto", "json_schema", "json_object", "none"]                 # toolforge.backends.base.Dialect
Stage = Literal["generate", "validate", "dedup", "tts", "review", "export", "push"]  # toolforge.pipeline.STAGES

ALL: dict[str, tuple[str, ...]] = {name: get_args(t) for name, t in (
    ("Scenario", Scenario), ("Status", Status), ("ImportFormat", ImportFormat), ("ExportFormat", ExportFormat),
    ("ThinkMode", ThinkMode), ("ToolMarkup", ToolMarkup), ("Family", Family), ("DedupMethod", DedupMethod),
    ("DedupEngine", DedupEngine), ("MatchMode", MatchMode), ("TTSEngine", TTSEngine), ("AudioFormat", AudioFormat),
    ("Replies", Replies), ("ReviewConfig", ReviewConfig), ("Dialect", Dialect), ("Stage", Stage))}

SCENARIOS: tuple[str, ...] = get_args(Scenario)
SELECT_SCENARIOS: tuple[str, ...] = (*SCENARIOS, "session")  # selection: multi-turn sessions (scenario None)


def each_one_of(values: tuple[str, ...]) -> Any:
    """An option callback for a repeatable choice (typer takes ``Literal`` only for single values)."""

    def check(value: list[str] | None) -> list[str] | None:
        import typer

        for v in value or []:
            if v not in values:
                raise typer.BadParameter(f"{v!r} is not one of {', '.join(map(repr, values))}.")
        return value

    return check
