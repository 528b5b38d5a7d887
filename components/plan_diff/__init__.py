"""make plan-diff: what a change does to a stack's offline plan.

diff.py compares two plans (the JSON `make plan` writes), with create_only.py saying which
changed inputs replace a resource; risk.py lists the data a change deletes or orphans;
redact.py masks what the secret scanner flags; text.py and markdown.py report the
difference, for a terminal and for a PR comment; git.py renders the base revision's
plan and the working tree's; __main__.py is the command line
(`python -m components.plan_diff --base origin/main --stack dev [--markdown]`).
Only git.py runs git and the plan program; the rest are functions of two plan dicts (create_only.py
reads the schema files cfn-lint ships, redact.py runs the secret scanner).
"""
from .create_only import CreateOnly
from .diff import MISSING, PlanDiff, ResourceChange, ValueChange, diff_plans, diff_values, stem
from .git import PlanFailed, build_plan, plans, resolve
from .markdown import mermaid, render_markdown
from .redact import Redactor
from .risk import Risk, data_at_risk
from .text import render_text, text_diff

__all__ = [
    "MISSING", "CreateOnly", "PlanDiff", "PlanFailed", "Redactor", "ResourceChange", "Risk", "ValueChange",
    "build_plan", "data_at_risk", "diff_plans", "diff_values", "mermaid", "plans", "render_markdown",
    "render_text", "resolve", "stem", "text_diff",
]
