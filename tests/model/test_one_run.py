"""Every problem of a new flavour in one `make plan` run: fields, steps, parameters, layers,
the clouds' checks and the guardrails, each named with its file and field path."""
from __future__ import annotations

from tests.flavour_folders import planned_refusal
from tests.samples import ubuntu_flavour

SHA = "1" * 64  # a sha256 of digits only: unquoted, YAML reads it as an integer

# One new flavour with a mistake of each kind a team makes on its first try.
BROKEN = f"""\
name: kiosk
description: A kiosk image
version: 1.0.0
os: linux
colour: blue
base_image:
  aws: {{owners: [shared-services], name: "ubuntu-*"}}
  azure: {{publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}}
build:
  aws_instance_types: [m6i.large, "M6I LARGE", t3, c5 xlarge]
steps:
  - os-updates
  - linux-basline
  - linux-packages:
      packags: [curl]
  - artifact:
      source: https://downloads.example.com/kiosk.tar.gz
      destination: /opt/kiosk.tar.gz
      sha256: {SHA}
  - script:
      inline: echo kiosk
      options:
        reboot_after: true
  - linux-baseline
"""

# `options:` one level out from the step: the parser's own words are not enough.
MISINDENTED = ubuntu_flavour("signage") + """\
  - os-updates
  - script:
      inline: echo signage
  options:
    timeout_minutes: 5
"""

# A layer on a base nobody wrote (a typo), and two layers built on each other.
TYPO_LAYER = "name: kiosk-plus\ndescription: d\nversion: 1.0.0\nos: linux\nbase_image: {flavour: ubuntu-240}\nsteps:\n  - cleanup\n"
CYCLE_A = "name: loop-a\ndescription: d\nversion: 1.0.0\nos: linux\nbase_image: {flavour: loop-b}\nsteps:\n  - cleanup\n"
CYCLE_B = "name: loop-b\ndescription: d\nversion: 1.0.0\nos: linux\nbase_image: {flavour: loop-a}\nsteps:\n  - cleanup\n"

# Sound as a model, refused by the guardrails: no hardening step (GI-FLAV-002).
UNHARDENED = ubuntu_flavour("unhardened") + "  - os-updates\n  - cleanup\n"

# Sound as a model, refused by the Azure up-front check: its replication leaves out the gallery's region.
REGIONAL = ubuntu_flavour("regional") + "  - os-updates\n  - linux-baseline\n" + \
    "distribution:\n  azure:\n    replication: [{region: northeurope}]\n"

# Sound, and a layer on a sound base: the disk check needs the resolved base, and runs.
SMALL_LAYER = ("name: small-layer\ndescription: d\nversion: 1.0.0\nos: linux\nbase_image: {flavour: ubuntu-2404}\n"
               "build: {disk_size_gb: 8}\nsteps:\n  - cleanup\n")


def test_one_plan_run_reports_every_mistake_with_file_and_field(project, capsys):
    project.write_flavour("kiosk.yaml", BROKEN)
    project.write_flavour("signage.yaml", MISINDENTED)
    project.write_flavour("kiosk-plus.yaml", TYPO_LAYER)
    project.write_flavour("loop-a.yaml", CYCLE_A)
    project.write_flavour("loop-b.yaml", CYCLE_B)
    project.write_flavour("unhardened.yaml", UNHARDENED)
    project.write_flavour("small-layer.yaml", SMALL_LAYER)
    project.write_flavour("regional.yaml", REGIONAL)

    status, err = planned_refusal(project, capsys)

    # A mistake in the inputs is a user error (README: exit 2, no plan file), even with
    # guardrail violations beside it.
    assert status == 2
    assert "Traceback" not in err
    lines = [line.strip() for line in err.splitlines()]

    def reported(start: str, *words: str) -> str:
        found = [line for line in lines if line.startswith(start) and all(w in line for w in words)]
        assert found, f"not reported: {start} {words}\n{err}"
        return found[0]

    # The field error, and the steps of the same file checked all the same.
    reported("image_flavours/kiosk.yaml: colour: unknown field")
    reported("image_flavours/kiosk.yaml: steps[1]: unknown step 'linux-basline'", "did you mean 'linux-baseline'")
    reported("image_flavours/kiosk.yaml: steps[2].linux-packages.packags: unknown parameter", "did you mean 'packages'")
    # A digits-only sha256 is told to be quoted.
    sha = reported("image_flavours/kiosk.yaml: steps[3].artifact.sha256: must be a string, got the number")
    assert f'quote it in YAML ("{SHA}")' in sha
    # `options:` under the parameters: told where it goes.
    reported("image_flavours/kiosk.yaml: steps[4]: 'options' is indented under the step's parameters",
             "aligned with 'script:'")
    # An account name where an id is expected: not told to quote it.
    owner = reported("image_flavours/kiosk.yaml: base_image.aws.owners[0]: 'shared-services' is not an owner")
    assert "quote" not in owner and "12-digit account id" in owner
    # Three bad entries of one list: each named by its index, the good one not.
    for index, value in ((1, "'M6I LARGE'"), (2, "'t3'"), (3, "'c5 xlarge'")):
        reported(f"image_flavours/kiosk.yaml: build.aws_instance_types[{index}]: {value}: not an EC2 instance type")
    assert not [line for line in lines if "aws_instance_types[0]" in line]

    # The YAML syntax error at a mis-indented `options:` gets a hint besides the parser's words.
    reported("image_flavours/signage.yaml: line 12, column 3: YAML syntax error",
             "`options:` belongs to the step above it")

    # Layers: an unknown base with the close name, and the cycle naming both files.
    reported("image_flavours/kiosk-plus.yaml: base_image.flavour: no flavour named 'ubuntu-240'",
             "did you mean 'ubuntu-2404'")
    reported("image_flavours/loop-a.yaml: base_image.flavour: layers form a cycle: loop-a (image_flavours/loop-a.yaml)"
             " -> loop-b (image_flavours/loop-b.yaml) -> loop-a")
    # The check that needs a resolved base runs for the layer whose chain is sound.
    reported("image_flavours/small-layer.yaml: build.disk_size_gb: 8 GB is smaller than the disk of 'ubuntu-2404'")

    # The clouds' up-front checks (components/builds.py) ran although the loader found problems.
    reported("image_flavours/regional.yaml: distribution.azure.replication: must include the stack's location "
             "'westeurope'")

    # The guardrails ran on the flavours without problems, in the same run: the flavour with
    # no hardening step is refused (docs/policy.md, GI-FLAV-002), the shipped ones are not.
    head = reported("error:", "guardrail violation(s) on the flavours without problems")
    assert "unhardened" in head and "kiosk" not in head.split("(")[1]
    violations = [line for line in lines if " GI-" in line or line.startswith("GI-")]
    assert [line for line in violations
            if line.startswith("image_flavours/unhardened.yaml: steps: GI-FLAV-002 unhardened")], err
    assert not [line for line in violations if "ubuntu-2404" in line or "kiosk" in line], err


def test_a_sound_flavour_set_plans_without_a_second_pass(project, capsys):
    """Guardrails alone (no input mistake): the documented exit 1, the plan written for review."""
    from components.plan import main

    project.write_flavour("unhardened.yaml", UNHARDENED)
    status = main(["--stack", "dev", "--root", str(project.root), "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    assert (project.root / "build" / "plan" / "dev.json").exists()
    assert "GI-FLAV-002 unhardened" in err and "without problems" not in err


def test_every_bad_account_entry_of_a_stack_list_is_named(project, capsys):
    """Stack lists too: each bad entry at its index, not the first only."""
    text = (project.root / "Pulumi.dev.yaml").read_text()
    text = text.replace("    notification_emails: [platform-team@example.com]",
                        "    notification_emails: [platform-team, platform-team@example.com, sre]")
    (project.root / "Pulumi.dev.yaml").write_text(text)
    status, err = planned_refusal(project, capsys)
    assert status == 2
    assert "Pulumi.dev.yaml: golden-images:aws.notification_emails[0]: 'platform-team' is not an e-mail address" in err
    assert "Pulumi.dev.yaml: golden-images:aws.notification_emails[2]: 'sre' is not an e-mail address" in err
    assert "notification_emails[1]" not in err




def test_every_bad_subscription_of_the_azure_sharing_list_is_named(tmp_path):
    from components.model.errors import ValidationFailed
    from components.model.settings import parse_settings
    from tests.samples import stack_config

    good = "8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48"
    config = stack_config(azure={"location": "westeurope", "share_with_subscriptions": ["team-a", good, "12"]})
    try:
        parse_settings(config, "Pulumi.dev.yaml")
    except ValidationFailed as failed:
        problems = [str(p) for p in failed.problems]
    else:
        raise AssertionError("accepted")
    assert problems == [
        "Pulumi.dev.yaml: golden-images:azure.share_with_subscriptions[0]: 'team-a' is not a subscription id (a GUID)",
        "Pulumi.dev.yaml: golden-images:azure.share_with_subscriptions[2]: '12' is not a subscription id (a GUID)",
    ]


def test_a_number_where_text_is_expected_is_told_to_be_quoted(tmp_path):
    from tests.flavour_folders import refused

    text = ubuntu_flavour("web") + "  - os-updates\n  - linux-baseline\n" + \
        "distribution:\n  aws:\n    target_accounts: [111122223333, shared-services]\n"
    problems = refused(tmp_path, {"web.yaml": text})
    assert ('image_flavours/web.yaml: distribution.aws.target_accounts[0]: must be text, got the number 111122223333; '
            'quote it in YAML ("111122223333"): unquoted, digits become a number and leading zeros are lost') in problems
    # A name is a name: not told to quote it (this stack has no accounts map, so it is unknown).
    text = ubuntu_flavour("web") + "  - os-updates\n  - linux-baseline\n" + \
        "distribution:\n  aws:\n    target_accounts: [shared-services]\n"
    (name,) = refused(tmp_path / "names", {"web.yaml": text})
    assert name.startswith("image_flavours/web.yaml: distribution.aws.target_accounts[0]: unknown account name "
                           "'shared-services'")
    assert "quote" not in name


def test_a_file_with_a_field_error_is_still_checked_against_the_stack(tmp_path):
    from tests.flavour_folders import refused

    text = ubuntu_flavour("reports") + "  - os-updates\n  - linux-baseline\n" + """\
colour: blue
build:
  aws:
    root_volume: {size_gb: 6}
distribution:
  aws:
    target_accounts: [web-prod]
"""
    problems = refused(tmp_path, {"reports.yaml": text})
    assert problems[0].startswith("image_flavours/reports.yaml: build.aws.root_volume.size_gb: 6 GB is smaller than "
                                  "the 8 GB root of its parent (ubuntu) on aws")
    assert problems[1].startswith("image_flavours/reports.yaml: colour: unknown field")
    assert problems[2].startswith("image_flavours/reports.yaml: distribution.aws.target_accounts[0]: unknown account "
                                  "name 'web-prod'")
    assert len(problems) == 3, problems


def test_the_checks_across_fields_run_beside_a_field_error(tmp_path):
    from tests.flavour_folders import refused

    text = ubuntu_flavour("reports") + "  - os-updates\n  - linux-baseline\n  - cleanup:\n" + \
        "    when: {flags: {fips: true}}\ncolour: blue\n"
    assert refused(tmp_path, {"reports.yaml": text}) == [
        "image_flavours/reports.yaml: colour: unknown field (did you mean 'clouds'? allowed: base_image, build, clouds, "
        "description, distribution, flags, gallery, name, os, schedule, steps, tags, tests, version)",
        "image_flavours/reports.yaml: steps[2].when.flags.fips: unknown flag (known: none declared (add flags: "
        "{fips: true}))",
    ]
