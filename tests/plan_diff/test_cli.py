"""`python -m components.plan_diff` on plan files (components/plan_diff/__main__.py)."""
from __future__ import annotations

import json

from components.plan_diff.__main__ import main
from tests.plan_samples import factory


def test_cli_compares_plan_files(tmp_path, capsys):
    (tmp_path / "base.json").write_text(json.dumps(factory()))
    (tmp_path / "head.json").write_text(json.dumps(factory(aws_regions=("eu-west-1", "us-east-1"))))
    code = main(["--base-plan", str(tmp_path / "base.json"), "--head-plan", str(tmp_path / "head.json"),
                 "--markdown", "--out", str(tmp_path / "diff.md")])
    assert code == 0
    md = (tmp_path / "diff.md").read_text()
    assert "`distributions[region=us-east-1]`" in md and '(["us-east-1"])' in md
