"""Lifecycle policies: deprecating and deleting old AMIs."""
from __future__ import annotations

from components.aws import render
from tests.aws.samples import (
    PREFIX,
    make_flavour,
    make_settings,
)


class TestLifecycle:
    def args(self, **lifecycle):
        settings = make_settings(lifecycle=lifecycle)
        return render.lifecycle_policy_args(make_flavour(), settings.aws, prefix=PREFIX, recipe="recipe-abc",
                                            execution_role_arn="arn:aws:iam::123456789012:role/lifecycle", tags={})

    def test_deprecate_by_age_then_delete_beyond_count(self):
        args = self.args(keep_images=12, deprecate_after_days=90)
        assert args["resource_type"] == "AMI_IMAGE"
        assert args["policy_details"] == [
            {"action": {"type": "DEPRECATE", "include_resources": {"amis": True}},
             "filter": {"type": "AGE", "value": 90, "unit": "DAYS"}},
            {"action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
             "filter": {"type": "COUNT", "value": 12},
             # An image launched within 30 days (the default) is in use: never deleted for its rank.
             "exclusion_rules": {"amis": {"last_launched": {"unit": "DAYS", "value": 30}}}},
        ]
        assert args["resource_selection"] == {"recipes": [{"name": "recipe-abc", "semantic_version": "x.x.x"}]}
        assert args["execution_role"] == "arn:aws:iam::123456789012:role/lifecycle"

    def test_without_age_old_images_are_only_deleted(self):
        # Image Builder accepts a COUNT filter only with DELETE, so there is no count-based deprecation.
        assert self.args(keep_images=3)["policy_details"] == [
            {"action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
             "filter": {"type": "COUNT", "value": 3},
             # An image launched within 30 days (the default) is in use: never deleted for its rank.
             "exclusion_rules": {"amis": {"last_launched": {"unit": "DAYS", "value": 30}}}},
        ]

