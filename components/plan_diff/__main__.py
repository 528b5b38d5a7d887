"""What a change does to a stack, offline: the plans of two revisions compared.

`python -m components.plan_diff --base origin/main --stack dev [--markdown]`
renders the offline plan (components/plan.py) of the base revision in a
temporary git worktree and of the working tree, then reports per flavour the
resources added, replaced (and which inputs made them new), updated in place
and removed, with scripts shown as text diffs, and first the data the change
deletes, orphans or locks away (risk.py). Exit 0 whatever changed, 2 when a
plan fails, 3 with --fail-on-risk when data is at risk. No Pulumi CLI, no
credentials.
How resources are matched: diff.py.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable, Optional

from .diff import diff_plans
from .git import ROOT, PlanFailed, build_plan, plans
from .markdown import render_markdown
from .redact import Redactor
from .text import render_text

EXIT_RISK = 3  # --fail-on-risk: the change deletes, orphans or locks away data (2 is a failed plan)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make plan-diff", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="origin/main", help="git revision to compare with (default origin/main)")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--markdown", action="store_true", help="Markdown with a Mermaid map, for PR comments")
    parser.add_argument("--out", default=None, help="write the report here instead of stdout")
    parser.add_argument("--base-plan", default=None, help="compare this plan file instead of rendering --base")
    parser.add_argument("--head-plan", default=None, help="compare this plan file instead of the working tree")
    parser.add_argument("--max-diff-lines", type=int, default=None, help="cut text diffs after this many lines")
    parser.add_argument("--fail-on-risk", action="store_true",
                        help=f"exit {EXIT_RISK} when the report has a 'data at risk' section (the report is still written)")
    parser.add_argument("--max-chars", type=int, default=60000,
                        help="Markdown: shorten text diffs until the report fits (a PR comment holds 65536)")
    return parser


def main(argv: Optional[Iterable[str]] = None) -> int:
    args = parser().parse_args(list(argv) if argv is not None else None)
    notes: list = []
    try:
        head = json.loads(Path(args.head_plan).read_text()) if args.head_plan else None
        head_label = args.head_plan or "working tree"
        if args.base_plan:
            base, base_label = json.loads(Path(args.base_plan).read_text()), args.base_plan
            if head is None:
                head = build_plan(ROOT, args.stack, "the working tree")
        else:
            base, base_label, head, notes = plans(args.base, args.stack, head_plan=head)
    except PlanFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    diff = diff_plans(base, head, base_label, head_label)
    diff.notes.extend(notes)
    if args.markdown:
        limit = args.max_diff_lines if args.max_diff_lines is not None else 200
        report = render_markdown(diff, max_diff_lines=limit, max_chars=args.max_chars, redactor=Redactor())
    else:
        report = render_text(diff, max_diff_lines=args.max_diff_lines, redactor=Redactor())
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
        print(f"plan diff written to {args.out}")
    else:
        sys.stdout.write(report)
    if diff.risks:
        print(f"plan diff: {len(diff.risks)} item(s) of data at risk", file=sys.stderr)
        if args.fail_on_risk:
            return EXIT_RISK
    return 0


if __name__ == "__main__":
    sys.exit(main())
