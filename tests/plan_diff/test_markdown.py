"""The PR comment (components/plan_diff/markdown.py): tables, the Mermaid map, fitting a comment."""
from __future__ import annotations

from components.plan_diff.diff import diff_plans
from components.plan_diff.markdown import mermaid, render_markdown
from tests.plan_samples import COMPONENT, PlanBuilder, factory


def test_new_region_in_the_mermaid_map(new_region):
    graph = mermaid(new_region)
    assert graph.startswith("graph LR\n")
    assert 'f0["ubuntu-2404 1.0.0"]' in graph and "stack --> f0" in graph
    assert 'f0_aws["AWS"]' in graph and "f0 --> f0_aws" in graph
    assert 'f0_aws_r1(["us-east-1"])' in graph and "f0_aws --> f0_aws_r1" in graph
    assert 'f0_azure_r1(["northeurope"])' in graph
    added = next(line for line in graph.splitlines() if line.strip().startswith("class ") and line.endswith(" added"))
    assert set(added.split()[1].split(",")) == {"f0_aws_r1", "f0_azure_r1", "f1_aws_r1", "f1_azure_r1"}
    changed = next(line for line in graph.splitlines() if line.strip().startswith("class ") and line.endswith(" changed"))
    assert set(changed.split()[1].split(",")) == {"f0", "f1"}


def test_markdown_report(script_change):
    md = render_markdown(script_change)
    assert md.startswith("<!-- golden-images plan-diff stack=dev -->\n### Offline plan diff: stack `dev`")
    assert "| `ubuntu-2404` | 0 | 3 | 1 | 0 |" in md
    assert "| **all** | **0** | **6** | **2** | **0** |" in md
    assert "```mermaid\ngraph LR\n" in md
    assert "#### Flavour `ubuntu-2404`" in md
    assert (
        "| ♻️ replace | `aws:imagebuilder/component:Component` | `ubuntu-2404-os-updates-1a2b3c4d` → "
        "`ubuntu-2404-os-updates-9d8c7b6a` | content changed: `data` |"
    ) in md
    summary = "<details><summary><code>ubuntu-2404-os-updates-9d8c7b6a</code> <code>data</code>: text diff</summary>"
    assert summary in md
    block = md.split(summary)[1]
    block = block.split("</details>")[0]
    assert "```diff\n" in block and "+              apt-get -y dist-upgrade" in block
    assert md.count("<details>") == md.count("</details>")
    assert md.count("```") % 2 == 0


def test_markdown_shows_an_added_region_entry_whole(new_region):
    md = render_markdown(new_region)
    summary = ("<details><summary><code>ubuntu-2404</code> <code>distributions[region=us-east-1]</code>: added"
               "</summary>")
    assert summary in md
    block = md.split(summary)[1].split("</details>")[0]
    assert "```json\n" in block and '"region": "us-east-1"' in block and '"targetAccountIds": [' in block


def test_markdown_escapes_table_cells_and_fences():
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add(COMPONENT, "x", inputs={"data": "echo a | tee b\n```\n", "description": "a|b"})
    b2.add(COMPONENT, "x", inputs={"data": "echo c | tee b\n```\n", "description": "a|c"})
    md = render_markdown(diff_plans(b1.plan(), b2.plan()))
    assert "| `description` | `a\\|b` | `a\\|c` |" in md
    assert "````diff" in md  # a script containing ``` gets a longer fence


def test_markdown_shrinks_diffs_to_fit_a_comment():
    base, head = factory(), factory()
    for res in head["resources"]:
        if res["type"] == COMPONENT:
            res["inputs"]["data"] = "\n".join(f"changed line {i} of a long script" for i in range(3000))
    diff = diff_plans(base, head)
    md = render_markdown(diff, max_chars=20000)
    assert len(md) <= 20000
    assert "more diff lines" in md
    assert "#### Flavour `windows-2022-core`" in md
