"""Problems found before anything is created (plan_azure)."""
from __future__ import annotations

from tests.azure.samples import flavour, problems_of, settings


class TestProblems:
    def test_valid_settings(self):
        assert problems_of(settings()) == []

    def test_unmapped_time_zone(self):
        s = settings()
        s = s.model_copy(update={"schedule": s.schedule.model_copy(update={"timezone": "Asia/Kathmandu"})})
        [problem] = problems_of(s)
        assert (problem.source, problem.path) == ("Pulumi.dev.yaml", "golden-images:schedule.timezone")

    def test_replication_without_the_location(self):
        [problem] = problems_of(settings(replication=[{"region": "eastus"}]))
        assert problem.path == "golden-images:azure.replication" and "westeurope" in problem.message

    def test_source_trigger_needs_latest(self):
        pinned = flavour(base_image={"azure": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                               "sku": "server", "version": "1.2.3"}}, source="f.yaml")
        [problem] = problems_of(settings(source_image_trigger=True), pinned)
        assert problem.path == "base_image.azure.version"
        assert problems_of(settings(), pinned) == []

    def test_windows_update_exclusions_must_be_kb_ids(self):
        bad = flavour("windows", steps=[{"os-updates": {"exclude": ["linux-image-generic"]}}], source="f.yaml")
        [problem] = problems_of(settings(), bad)
        assert (problem.source, problem.path) == ("f.yaml", "steps[0].os-updates.exclude")

    def test_azure_problems_combines_both(self):
        bad = flavour("windows", steps=[{"os-updates": {"exclude": ["nope"]}}], source="f.yaml")
        problems = problems_of(settings(replication=[{"region": "eastus"}]), bad)
        assert {p.source for p in problems} == {"f.yaml", "Pulumi.dev.yaml"}


