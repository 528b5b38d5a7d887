"""Factory names, resource ids and role actions."""
from __future__ import annotations

from components.azure import render
from tests.azure.samples import NAME, flavour, settings


class TestNames:
    def test_gallery_names_have_no_hyphens(self):
        assert render.gallery_name_for("team-a.prod") == "golden_images_team_a.prod"
        names = render.FactoryNames.for_stack("team-a", settings().azure)
        assert "-" not in names.gallery
        assert render.FactoryNames.for_stack("x", settings(gallery_name="mine").azure).gallery == "mine"

    def test_template_and_staging_names_fit_azure_limits(self):
        long = flavour("linux", name="f" * 40)
        names = render.FactoryNames.for_stack("dev", settings(resource_group_name="g" * 90).azure)
        template = render.template_name(long, "0123456789")
        assert NAME.match(template) and len(template) <= 64
        staging = render.staging_group_name(names, template)
        assert len(staging) <= 90 and staging.endswith(template)

    def test_run_command(self):
        assert render.run_command("t-1", "g") == "az image builder run -n t-1 -g g --no-wait"



def test_builder_and_runner_roles_hold_no_wildcards():
    for action in [*render.GALLERY_ACTIONS, *render.PUBLISH_ACTIONS, *render.NETWORK_ACTIONS, *render.RUNNER_ACTIONS]:
        assert "*" not in action
    assert set(render.RUNNER_ACTIONS) == {
        "Microsoft.VirtualMachineImages/imageTemplates/read",
        "Microsoft.VirtualMachineImages/imageTemplates/run/action",
    }


