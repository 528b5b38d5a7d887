"""Stack settings: typed, validated, every problem reported with file and key."""
import pytest

from components.model.errors import ValidationFailed
from components.model.settings import parse_settings
from tests.samples import stack_config as settings

SOURCE = "Pulumi.dev.yaml"


def problems(raw) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_settings(raw, SOURCE)
    return [str(p) for p in caught.value.problems]


def test_valid_settings_have_defaults():
    parsed = parse_settings(settings(), SOURCE)
    assert parsed.aws.regions == ["eu-west-1"]
    assert [r.region for r in parsed.azure.replicas] == ["westeurope"]
    assert parsed.schedule.describe() == "every sunday at 02:00 Europe/Amsterdam"
    assert parsed.flavours is None


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ({"every": "week", "on": "sunday", "at": "2am"}, "golden-images:schedule.at: '2am' is not a 24-hour time HH:MM"),
        ({"every": "week", "on": "sunday", "at": "24:00"}, "'24:00' is not a 24-hour time"),
        ({"every": "week", "on": "sunday", "timezone": "Europe/Amsterdm"}, "did you mean 'Europe/Amsterdam'?"),
        ({"every": "week", "on": "someday"}, "every: week needs 'on' to be a weekday"),
        ({"every": "month", "on": 31}, "every: month needs 'on' to be a day of the month 1-28"),
        ({"every": "day", "on": "monday"}, "'on' is not used with every: day"),
        ({"every": "fortnight"}, "golden-images:schedule.every: Input should be 'day', 'week' or 'month'"),
    ],
)
def test_bad_schedules_name_the_key(schedule, expected):
    found = problems(settings(schedule=schedule))
    assert any(expected in p for p in found), found
    assert all(p.startswith(f"{SOURCE}: golden-images:schedule") for p in found)


def test_unknown_regions_suggest_the_closest():
    found = problems(
        settings(
            aws={"region": "eu-west-9", "distribution_regions": ["us-east-1", "us-est-2"]},
            azure={"location": "west-europe", "replication": [{"region": "northeuropa"}]},
        )
    )
    assert any(p.startswith(f"{SOURCE}: golden-images:aws.region: unknown AWS region 'eu-west-9'") for p in found)
    assert any("golden-images:aws.distribution_regions[1]: unknown AWS region 'us-est-2' (did you mean 'us-" in p for p in found)
    assert any("golden-images:azure.location: unknown Azure region 'west-europe'" in p for p in found)
    assert any("golden-images:azure.replication[0].region: unknown Azure region 'northeuropa'" in p for p in found)


def test_every_problem_at_once_and_unknown_keys():
    found = problems(settings(clouds=["aws", "gcp"], colour="blue", aws={"region": "eu-west-1", "regoins": []}))
    assert any("golden-images:clouds[1]: Input should be 'aws' or 'azure'" in p for p in found)
    assert any("golden-images:colour: unknown field" in p for p in found)
    assert any("golden-images:aws.regoins: unknown field (did you mean 'region'?" in p for p in found)


def test_enabled_cloud_needs_its_section():
    raw = settings()
    del raw["golden-images:azure"]
    assert any("clouds includes azure but the golden-images:azure section is missing" in p for p in problems(raw))


def test_sharing_is_checked():
    found = problems(
        settings(aws={"region": "eu-west-1", "launch_permissions": {"account_ids": ["12345"], "organization_arns": ["o-123"]}})
    )
    assert any("'12345' is not a 12-digit AWS account id" in p for p in found)
    assert any("'o-123' is not an organization ARN" in p for p in found)


def test_provider_keys_are_left_to_providers():
    parsed = parse_settings({**settings(), "azure-native:location": "westeurope"}, SOURCE)
    assert parsed.clouds == ["aws", "azure"]


def test_stack_tags_follow_the_clouds_rules():
    found = problems(settings(tags={"aws:owner": "x", "team/name": "y"}))
    assert any("golden-images:tags.aws:owner: tag key 'aws:owner' must be 1-128 characters and not start with aws:" in p
               for p in found)
    # Every bad tag is named, not only the first.
    assert any("golden-images:tags.team/name: tag key 'team/name' contains a character Azure forbids" in p for p in found)


def test_schedule_day_is_not_a_boolean():
    found = problems(settings(schedule={"every": "month", "on": True}))
    assert any("golden-images:schedule.on: 'on' must be a weekday or a day of the month, got True" in p for p in found)
