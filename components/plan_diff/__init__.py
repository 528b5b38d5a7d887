"""make plan-diff: what a change does to a stack's offline plan.

diff.py compares two plans (the JSON `make plan` writes); text.py and markdown.py report
the difference, for a terminal and for a PR comment; git.py renders the base revision's
plan and the working tree's; __main__.py is the command line
(`python -m components.plan_diff --base origin/main --stack dev [--markdown]`).
Only git.py runs git and the plan program: the rest are pure functions of two plan dicts.
"""
from .diff import MISSING, PlanDiff, ResourceChange, ValueChange, diff_plans, diff_values, stem
from .git import PlanFailed, build_plan, plans, resolve
from .markdown import mermaid, render_markdown
from .text import render_text, text_diff

__all__ = [
    "MISSING", "PlanDiff", "PlanFailed", "ResourceChange", "ValueChange", "build_plan", "diff_plans",
    "diff_values", "mermaid", "plans", "render_markdown", "render_text", "resolve", "stem", "text_diff",
]
