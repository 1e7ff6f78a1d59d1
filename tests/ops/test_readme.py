"""The README stays true to the code: settings, demo logins, commands, docs."""

import re
from pathlib import Path

from org import demo

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()

ENV_READ = re.compile(
    r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|os\.environ(?:\.get)?[(\[]\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|os\.getenv\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def variables_read_by_settings() -> set[str]:
    names = set()
    for path in (ROOT / "config").glob("settings*.py"):
        for match in ENV_READ.finditer(path.read_text()):
            names.add(next(group for group in match.groups() if group))
    return names


def configuration_table() -> set[str]:
    section = README.split("## Configuration", 1)[1]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.M))


def test_settings_read_a_known_set_of_variables():
    # Guards the regex itself: if it stopped matching, the next test would prove nothing.
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SSP_SUPPRESSION_THRESHOLD"} <= (
        variables_read_by_settings()
    )


def test_every_environment_variable_the_settings_read_is_in_the_readme_table():
    missing = variables_read_by_settings() - configuration_table()
    assert not missing, f"add these to the README's configuration table: {sorted(missing)}"


def test_the_readme_table_lists_no_variable_the_settings_do_not_read():
    stale = configuration_table() - variables_read_by_settings()
    assert not stale, f"the README documents variables nothing reads: {sorted(stale)}"


def test_the_two_commands_are_at_the_top():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert first_block.splitlines()[0].startswith("make run")
    assert first_block.splitlines()[1].startswith("make test")
    assert README.index("```sh") < README.index("\n## ")
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "lint", "bench"):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target} is documented"


def test_demo_logins_match_the_demo_data():
    assert f"**`{demo.DEMO_PASSWORD}`**" in README
    for username, role, _codes in demo.DEMO_STAFF:
        assert re.search(rf"^\| `{username}` +\| {role} +\|", README, re.M), username


def test_every_feature_document_is_linked():
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{doc.name})" in README, f"README does not link docs/{doc.name}"


def test_the_api_entry_points_are_documented():
    for path in ("/api/v1/", "/api/schema/", "/api/docs/", "/healthz"):
        assert path in README
    assert "Authorization: Token" in README
