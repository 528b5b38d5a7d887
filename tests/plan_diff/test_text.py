"""The terminal report and text diffs (components/plan_diff/text.py)."""
from __future__ import annotations

from components.plan_diff.diff import diff_plans
from components.plan_diff.text import render_text, text_diff
from tests.plan_samples import COMPONENT, TEMPLATE, changes_of, factory, find


def test_changed_script_is_shown_as_a_text_diff(script_change):
    [component] = changes_of(script_change, "replace", COMPONENT, "ubuntu-2404")
    [data] = component.causes
    assert data.is_text
    lines = text_diff(data)
    assert "-              apt-get -y upgrade" in lines
    assert "+              apt-get -y dist-upgrade" in lines
    assert "+              apt-get -y autoremove" in lines
    assert not any(line.startswith(("-", "+")) and "apt-get update" in line for line in lines)


def test_azure_inline_script_lines_are_a_text_diff(script_change):
    [template] = changes_of(script_change, "replace", TEMPLATE, "ubuntu-2404")
    [inline] = template.causes
    assert inline.path == "customize[name=os-updates].inline"
    lines = text_diff(inline)
    assert "-apt-get -y upgrade" in lines and "+apt-get -y autoremove" in lines


def test_text_report_of_a_script_change(script_change):
    text = render_text(script_change)
    assert text.startswith("Plan diff of stack 'dev': origin/main (abc1234) -> working tree")
    assert "== flavour ubuntu-2404: 0 to add, 3 to replace, 1 to update in place, 0 to remove ==" in text
    assert (
        "+- replace aws:imagebuilder/component:Component ubuntu-2404-os-updates-1a2b3c4d -> ubuntu-2404-os-updates-9d8c7b6a"
        in text
    )
    assert "why: content changed: data" in text
    assert "+              apt-get -y dist-upgrade" in text
    assert "imageRecipeArn: arn:aws:imagebuilder:eu-west-1:123456789012:image-recipe/... -> " in text
    assert "(follows a new name)" in text


def test_json_documents_are_diffed_pretty_printed():
    base = factory()
    head = factory()
    role = find(head, "aws:iam/role:Role", "golden-images-build")
    role["inputs"]["assumeRolePolicy"] = role["inputs"]["assumeRolePolicy"].replace("ec2.amazonaws.com", "imagebuilder.amazonaws.com")
    [change] = diff_plans(base, head).changes
    [policy] = change.inputs
    lines = text_diff(policy)
    assert '-        "Service": "ec2.amazonaws.com"' in lines
    assert '+        "Service": "imagebuilder.amazonaws.com"' in lines
    assert '       "Action": "sts:AssumeRole",' in lines  # context lines, one key a line


def test_long_text_diffs_are_cut():
    base, head = factory(), factory()
    comp = find(head, COMPONENT, "ubuntu-2404")
    comp["inputs"]["data"] = "\n".join(f"line {i}" for i in range(500))
    [change] = [c for c in diff_plans(base, head).changes if c.type == COMPONENT]
    lines = text_diff(change.inputs[0], max_lines=20)
    assert len(lines) == 21 and lines[-1].startswith("... ") and "more diff lines" in lines[-1]


def test_text_report_shows_an_added_region_entry_whole(new_region):
    text = render_text(new_region)
    assert "      + distributions[region=us-east-1] =\n          {\n" in text
    assert '"region": "us-east-1"' in text
