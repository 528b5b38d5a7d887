"""Layered flavours: what a layer's own build runs, and every mistake named with its files."""
from pathlib import Path

import pytest

from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from components.model.settings import Schedule
from tests.builds import builds_of
from tests.samples import stack_config as settings
from tests.samples import ubuntu_flavour

BASE = ubuntu_flavour("base", "The base image") + """\
  - os-updates
  - linux-packages: {packages: [curl, jq]}
  - cloudwatch-agent: {}
    options: {only_on: aws}
  - linux-baseline
  - cleanup
"""


def layer(name: str = "web", base: str = "base", steps: str = "  - linux-packages: {packages: [nginx]}\n", extra: str = "") -> str:
    return (f"name: {name}\ndescription: A layer\nversion: 1.0.0\nos: linux\nbase_image: {{flavour: {base}}}\n"
            f"steps:\n{steps}{extra}")


def write(tmp_path: Path, files: dict) -> Path:
    folder = tmp_path / "image_flavours"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def loaded(tmp_path: Path, files: dict, config=None) -> dict:
    return builds_of(load_inputs(config or settings(), "Pulumi.dev.yaml", write(tmp_path, files), tmp_path))


def problems(tmp_path: Path, files: dict, config=None) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(config or settings(), "Pulumi.dev.yaml", write(tmp_path, files), tmp_path)
    return [str(p) for p in caught.value.problems]


def names(build) -> list[str]:
    return [use.name for use in build.build_steps]


# What a layer's build runs -------------------------------------------------------------------


def test_a_layer_builds_only_what_it_adds_with_updates_first(tmp_path):
    flavours = loaded(tmp_path, {"base.yaml": BASE, "web.yaml": layer()})
    web = flavours["web"]
    assert web.base is flavours["base"] and web.root is flavours["base"]
    # os-updates is `layers: always`: time passes between the builds, so it runs first unasked.
    assert names(web) == ["os-updates", "linux-packages"]
    assert web.build_steps[0] == flavours["base"].declared_steps[0]
    assert [str(n) for n in web.layer_notes] == [
        "os-updates: runs again first (as in base), updates since the base was built"]
    # Bases come first, whatever the file order.
    assert list(flavours) == ["base", "web"]


def test_steps_the_base_already_ran_are_skipped_unless_asked(tmp_path):
    steps = ("  - os-updates\n"
             "  - linux-packages: {packages: [curl, jq]}\n"      # same parameters as the base: skipped
             "  - linux-packages: {packages: [nginx]}\n"         # different: runs
             "  - linux-baseline: {}\n"                          # same, but asked for again
             "    options: {repeat: true}\n"
             "  - cleanup\n")                                    # `layers: again`: runs whenever listed
    web = loaded(tmp_path, {"base.yaml": BASE, "web.yaml": layer(steps=steps)})["web"]
    assert names(web) == ["os-updates", "linux-packages", "linux-baseline", "cleanup"]
    assert web.build_steps[1].params == {"packages": ["nginx"]}
    assert [str(n) for n in web.layer_notes] == [
        "os-updates: runs again, although base already ran it",
        "linux-packages: skipped, already built into base",
        "linux-baseline: runs again, although base already ran it",
        "cleanup: runs again, although base already ran it",
    ]
    # The flavour file's own list is kept for capabilities and the guardrails.
    assert len(web.declared_steps) == 5


def test_a_layer_may_decline_updates_and_repeat_nothing(tmp_path):
    steps = "  - os-updates: {}\n    options: {repeat: false}\n  - linux-packages: {packages: [nginx]}\n"
    web = loaded(tmp_path, {"base.yaml": BASE, "web.yaml": layer(steps=steps)})["web"]
    assert names(web) == ["linux-packages"]


def test_a_step_the_base_ran_on_one_cloud_only_is_not_covered_on_the_other(tmp_path):
    steps = "  - cloudwatch-agent: {}\n    options: {only_on: aws}\n  - linux-packages: {packages: [nginx]}\n"
    web = loaded(tmp_path, {"base.yaml": BASE, "web.yaml": layer(steps=steps)})["web"]
    assert "cloudwatch-agent" not in names(web)  # covered: the base ran it on AWS, the only cloud asked
    # The base installed htop on AWS only; a layer that wants it everywhere installs it again.
    base = BASE + "  - linux-packages: {packages: [htop]}\n    options: {only_on: aws}\n"
    web = loaded(tmp_path, {"base.yaml": base, "web.yaml": layer(steps="  - linux-packages: {packages: [htop]}\n")})["web"]
    assert names(web) == ["os-updates", "linux-packages"]


def test_three_layers_chain_and_inherit_everything_below(tmp_path):
    flavours = loaded(tmp_path, {
        "base.yaml": BASE,
        "web.yaml": layer(),
        "shop.yaml": layer("shop", "web", "  - linux-packages: {packages: [nginx]}\n  - linux-packages: {packages: [redis]}\n"),
    })
    shop = flavours["shop"]
    assert [f.name for f in shop.chain] == ["base", "web", "shop"]
    # nginx came from web, updates re-run from the root.
    assert names(shop) == ["os-updates", "linux-packages"] and shop.build_steps[1].params == {"packages": ["redis"]}


# Mistakes, each naming the files involved ----------------------------------------------------


def test_missing_base_names_the_choices(tmp_path):
    found = problems(tmp_path, {"base.yaml": BASE, "web.yaml": layer(base="bsae")})
    assert found == ["image_flavours/web.yaml: base_image.flavour: no flavour named 'bsae' (did you mean 'base'?) "
                     "(flavours: base, web)"]


def test_cycles_name_every_file(tmp_path):
    found = problems(tmp_path, {"aa.yaml": layer("aa", "bb"), "bb.yaml": layer("bb", "cc"), "cc.yaml": layer("cc", "aa")})
    assert found == ["image_flavours/aa.yaml: base_image.flavour: layers form a cycle: aa (image_flavours/aa.yaml) -> "
                     "bb (image_flavours/bb.yaml) -> cc (image_flavours/cc.yaml) -> aa; one of them must start from a "
                     "marketplace image"]


def test_a_flavour_cannot_be_its_own_base(tmp_path):
    found = problems(tmp_path, {"web.yaml": layer("web", "web")})
    assert found == ["image_flavours/web.yaml: base_image.flavour: a flavour cannot be built on itself"]


def test_os_mismatch_names_both_files(tmp_path):
    windows = layer().replace("os: linux", "os: windows").replace("linux-packages: {packages: [nginx]}", "windows-baseline")
    found = problems(tmp_path, {"base.yaml": BASE, "web.yaml": windows})
    assert found == ["image_flavours/web.yaml: base_image.flavour: 'base' (image_flavours/base.yaml) is a linux "
                     "flavour; a windows flavour cannot be built on it"]


def test_a_layer_takes_no_marketplace_image(tmp_path):
    text = layer().replace("base_image: {flavour: base}", "base_image: {flavour: base, aws: 'ssm:/aws/service/x'}")
    found = problems(tmp_path, {"base.yaml": BASE, "web.yaml": text})
    assert len(found) == 1
    assert found[0].startswith("image_flavours/web.yaml: base_image: a layered flavour starts from its base "
                               "flavour's image on every cloud; remove aws or remove flavour")


def test_a_layer_and_its_base_are_built_on_the_same_clouds(tmp_path):
    found = problems(tmp_path, {"base.yaml": BASE + "clouds: [aws]\n", "web.yaml": layer()})
    assert found == ["image_flavours/web.yaml: base_image.flavour: 'base' (image_flavours/base.yaml) is built on "
                     "aws in this stack, this flavour on aws, azure; a layer and its base are built on the same clouds "
                     "(set clouds here, or in image_flavours/base.yaml)"]
    found = problems(tmp_path, {"base.yaml": BASE, "web.yaml": layer(extra="clouds: [aws]\n")})
    assert found == ["image_flavours/web.yaml: base_image.flavour: 'base' (image_flavours/base.yaml) is built on "
                     "aws, azure in this stack, this flavour on aws; a layer and its base are built on the same clouds "
                     "(set clouds here, or in image_flavours/base.yaml)"]
    both = {"base.yaml": BASE + "clouds: [aws]\n", "web.yaml": layer(extra="clouds: [aws]\n")}
    assert loaded(tmp_path, both)["web"].base.name == "base"


def test_the_stack_must_build_the_base_of_every_layer_it_builds(tmp_path):
    found = problems(tmp_path, {"base.yaml": BASE, "web.yaml": layer()}, config=settings(flavours=["web"]))
    assert found == ["Pulumi.dev.yaml: golden-images:flavours: 'web' (image_flavours/web.yaml) is built on 'base' "
                     "(image_flavours/base.yaml), which this stack does not build; add 'base'"]


def test_too_many_layers(tmp_path):
    files = {"base.yaml": BASE}
    previous = "base"
    for index in range(4):
        files[f"l{index}.yaml"] = layer(f"l{index}", previous)
        previous = f"l{index}"
    found = problems(tmp_path, files)
    assert found == ["image_flavours/l3.yaml: base_image.flavour: 4 layers above a marketplace image (l3 "
                     "(image_flavours/l3.yaml) -> l2 (image_flavours/l2.yaml) -> l1 (image_flavours/l1.yaml) -> "
                     "l0 (image_flavours/l0.yaml) -> base (image_flavours/base.yaml)); at most 3"]


def test_a_layer_that_would_rebuild_past_day_28_is_refused(tmp_path):
    config = settings(schedule={"every": "month", "on": 28, "at": "22:00", "timezone": "UTC"})
    found = problems(tmp_path, {"base.yaml": BASE, "web.yaml": layer()}, config=config)
    assert found == ["Pulumi.dev.yaml: golden-images:schedule: web: a flavour 1 layer(s) above its marketplace image "
                     "rebuilds 4 hours after day 28 22:00, on day 29, which not every month has; choose an earlier "
                     "day or time, or a smaller layer_delay_hours"]


# Schedules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule, depth, expected", [
    ({"every": "day", "at": "02:00"}, 1, "every day at 06:00 UTC"),
    ({"every": "week", "on": "sunday", "at": "22:30"}, 1, "every monday at 02:30 UTC"),
    ({"every": "week", "on": "sunday", "at": "22:30", "layer_delay_hours": 12}, 2, "every monday at 22:30 UTC"),
    ({"every": "month", "on": 15, "at": "23:00", "layer_delay_hours": 2}, 1, "on day 16 of every month at 01:00 UTC"),
    ({"every": "month", "on": 15, "at": "03:00"}, 0, "on day 15 of every month at 03:00 UTC"),
])
def test_layers_rebuild_after_their_base(rule, depth, expected):
    assert Schedule(**rule).for_layer(depth).describe() == expected


# Build settings ------------------------------------------------------------------------------


def test_a_layer_takes_its_bases_build_machine_and_disk_unless_it_sets_its_own(tmp_path):
    base = BASE + "build: {disk_size_gb: 64, aws_instance_types: [m7g.large], timeout_minutes: 120}\n"
    flavours = loaded(tmp_path, {"base.yaml": base, "web.yaml": layer(extra="build: {timeout_minutes: 90}\n")})
    build = flavours["web"].machine
    assert (build.disk_size_gb, build.aws_instance_types, build.timeout_minutes) == (64, ["m7g.large"], 90)


def test_a_layer_disk_smaller_than_its_base_is_refused(tmp_path):
    base = BASE + "build: {disk_size_gb: 64}\n"
    found = problems(tmp_path, {"base.yaml": base, "web.yaml": layer(extra="build: {disk_size_gb: 40}\n")})
    assert found == ["image_flavours/web.yaml: build.disk_size_gb: 40 GB is smaller than the disk of 'base' (64 GB, "
                     "image_flavours/base.yaml), whose image this flavour's build boots; leave it out to take the "
                     "base's, or make it larger"]


def test_a_base_build_longer_than_the_layer_delay_is_a_warning(tmp_path):
    base = BASE + "build: {timeout_minutes: 360}\n"
    inputs = load_inputs(settings(), "Pulumi.dev.yaml", write(tmp_path, {"base.yaml": base, "web.yaml": layer()}), tmp_path)
    assert [str(w) for w in inputs.warnings] == [
        "image_flavours/web.yaml: base_image.flavour: rebuilds 4 h after 'base', whose builds may take up to 360 "
        "minutes (image_flavours/base.yaml: build.timeout_minutes); a late base build is picked up a period later "
        "(on AWS the layer fails until a base whose recipe changed has built once); raise "
        "golden-images:schedule.layer_delay_hours"]
    config = settings(schedule={"every": "week", "on": "sunday", "at": "02:00", "layer_delay_hours": 6})
    assert load_inputs(config, "Pulumi.dev.yaml", tmp_path / "image_flavours", tmp_path).warnings == []


def test_repeat_means_nothing_without_a_base(tmp_path):
    found = problems(tmp_path, {"base.yaml": BASE + "  - linux-baseline: {}\n    options: {repeat: true}\n"})
    assert found == ["image_flavours/base.yaml: steps[5].options.repeat: only a layered flavour "
                     "(base_image: {flavour: ...}) repeats or skips its base's steps"]


def test_errors_in_a_layer_name_its_own_entries(tmp_path):
    # os-updates runs first in the layer's build, but the file's entry 0 is the cloudwatch agent.
    found = problems(tmp_path, {"base.yaml": BASE, "web.yaml": layer(steps="  - cloudwatch-agent\n")})
    assert found == ["image_flavours/web.yaml: steps[0]: step 'cloudwatch-agent' runs only on aws, but this flavour "
                     "is also built on azure; add 'options: {only_on: aws}' to say the images differ"]
