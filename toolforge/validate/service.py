"""What `toolforge validate` does, as one library call: config in, report out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from toolforge.validate.issues import Issue
from toolforge.validate.run import Summary


class ValidateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str | None = None           # a JSON Lines file ('-' for stdin); None: the store
    db: str = "toolforge.duckdb"
    execute: bool = False
    judge: str | None = None          # teacher spec
    rubric: str | None = None         # the judge's rubric file (merged over the packaged one)
    scenarios: list[str] | None = None
    status: str = "any"
    limit: int | None = None
    check_scenario: bool = True
    check_grounding: bool = True      # toolforge.validate.grounding (answers, arguments, steps the conversation supports)
    workers: int = 1                  # processes for the schema stage; 0: one per core (toolforge.validate.parallel)


@dataclass
class Report:
    source: str
    summaries: list[Summary]
    results: list[tuple[str, list[Issue]]] = field(default_factory=list)  # (where, issues), records with issues only

    @property
    def has_errors(self) -> bool:
        return any(s.failed for s in self.summaries)

    def issue_lines(self) -> Iterator[tuple[str, Issue]]:
        for where, issues in self.results:
            for i in issues:
                yield where, i

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": not self.has_errors,
            "summary": {s.stage: s.to_dict() for s in self.summaries},
            "results": [{"where": w, "issues": [i.to_dict() for i in iss]} for w, iss in self.results],
        }


def run_validate(cfg: ValidateConfig) -> Report:
    if cfg.file is not None:
        return _run_file(cfg)
    return _run_store(cfg)


def _run_file(cfg: ValidateConfig) -> Report:
    from pydantic import ValidationError

    from toolforge.io.jsonl import check_readable, read_jsonl
    from toolforge.record import Record
    from toolforge.validate.record_checks import RecordValidator

    assert cfg.file is not None
    if cfg.file != "-":
        check_readable(cfg.file)
    checker = _execution_checker() if cfg.execute else None
    judge = _judge(cfg.judge, cfg.rubric) if cfg.judge else None
    schema, exe, jud = Summary("schema"), Summary("execution"), Summary("judge")
    report = Report(cfg.file, [schema] + ([exe] if checker else []) + ([jud] if judge else []))
    if checker is None and judge is None:  # the schema stage alone: in chunks, in worker processes when large
        _schema_chunks(cfg, schema, report)
        return report
    validator = RecordValidator(check_scenario=cfg.check_scenario, check_grounding=cfg.check_grounding)
    n = 0
    try:
        for line in read_jsonl(cfg.file):
            if cfg.limit is not None and n >= cfg.limit:
                break
            n += 1
            where = f"{cfg.file}:{line.number}"
            if line.error is not None:
                issues = [Issue("json_invalid", "$", line.error)]
                schema.add(issues)
                report.results.append((where, issues))
                continue
            issues = validator.validate(line.value)
            schema.add(issues)
            rec = None
            if isinstance(line.value, dict) and (issues or checker or judge):  # the id costs: only when needed
                try:
                    rec = Record.model_validate({k: v for k, v in line.value.items() if k != "id"})
                    where += f" {rec.id}"
                except (ValidationError, TypeError, ValueError):
                    rec = None
            if issues:
                report.results.append((where, issues))
            if rec is None:
                continue
            for tool, summary in ((checker, exe), (judge, jud)):
                if tool is None or (tool is judge and any(i.severity == "error" for i in issues)):
                    continue  # the judge costs most: not asked about what the checks already rejected
                more = tool.check(rec)
                summary.add(more)
                if more:
                    report.results.append((where, more))
    finally:
        if judge is not None:
            judge.close()
        if checker is not None:
            checker.close()
    return report


def _schema_chunks(cfg: ValidateConfig, schema: Summary, report: Report) -> None:
    """The schema stage of a file, chunk by chunk (``cfg.workers`` processes; see toolforge.validate.parallel)."""
    from toolforge.io.jsonl import raw_lines
    from toolforge.validate.parallel import judge_lines, line_chunks, resolve_workers, run_chunks

    assert cfg.file is not None
    chunks = line_chunks(raw_lines(cfg.file), cfg.limit)
    for results in run_chunks(judge_lines, chunks, workers=resolve_workers(cfg.workers),
                              check_scenario=cfg.check_scenario, check_grounding=cfg.check_grounding):
        for number, issues, rid in results:
            schema.add(issues)
            if issues:
                where = f"{cfg.file}:{number}" + (f" {rid}" if rid else "")
                report.results.append((where, issues))


def _execution_checker() -> Any:
    from toolforge.validate.execute import ExecutionChecker

    return ExecutionChecker()


def _judge(spec: str, rubric: str | None = None) -> Any:
    from toolforge.validate.judge import Judge

    return Judge.from_spec(spec, rubric_path=rubric)


def _run_store(cfg: ValidateConfig) -> Report:
    from toolforge.store import make_selection, open_store
    from toolforge.validate.run import validate_store

    sel = make_selection(scenarios=cfg.scenarios, status=cfg.status, limit=cfg.limit, include_duplicates=True)
    results: list[tuple[str, list[Issue]]] = []
    if cfg.judge and cfg.rubric:
        from toolforge.validate.judge import load_rubrics

        load_rubrics(cfg.rubric)  # a bad rubric file fails before anything is written
    with open_store(cfg.db, create=False) as store:
        summaries = [validate_store(store, sel, "schema", check_scenario=cfg.check_scenario,
                                    check_grounding=cfg.check_grounding, results=results, workers=cfg.workers)]
        if cfg.execute:
            summaries.append(validate_store(store, sel, "execution", results=results))
        if cfg.judge:
            summaries.append(validate_store(store, sel, "judge", results=results, teacher=cfg.judge,
                                            rubric_path=cfg.rubric))
    return Report(cfg.db, summaries, results)
