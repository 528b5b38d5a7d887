"""Option changes that only order operations are not updates (Pulumi's resource options docs:
`dependsOn` adds explicit dependencies for ordering; it is not sent to the provider)."""
from __future__ import annotations

from components.plan_diff.diff import diff_plans
from tests.plan_samples import PIPELINE, PlanBuilder, changes_of


def _plans(base_deps: list, head_deps: list, head_protect: bool = False) -> tuple[dict, dict]:
    def one(deps: list, protect: bool) -> dict:
        builder = PlanBuilder()
        key = builder.add("aws:kms/key:Key", "images-key")
        other = builder.add("aws:kms/key:Key", "logs-key")
        targets = {"images-key": key["urn"], "logs-key": other["urn"]}
        builder.add(PIPELINE, "ubuntu-2404-pipeline", inputs={"name": "ubuntu-2404"},
                    dependsOn=[targets[d] for d in deps], protect=protect)
        return builder.plan()
    return one(base_deps, False), one(head_deps, head_protect)


def test_a_resource_whose_only_change_is_its_dependencies_is_unchanged():
    base, head = _plans(["images-key"], ["images-key", "logs-key"])
    diff = diff_plans(base, head)
    assert diff.changes == []
    assert diff.unchanged == 3
    assert diff.counts()["update"] == 0


def test_another_option_change_beside_the_dependencies_is_still_an_update():
    base, head = _plans(["images-key"], ["logs-key"], head_protect=True)
    [pipeline] = changes_of(diff_plans(base, head), "update", PIPELINE)
    assert "options.protect" in [c.path for c in pipeline.options]
