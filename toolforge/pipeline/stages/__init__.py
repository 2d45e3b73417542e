"""One module per pipeline stage: ``enabled(recipe)``, ``config(ctx)``, ``run(ctx) -> StageReport``."""
