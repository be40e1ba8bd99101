"""The README's settings table documents every setting the code reads, and only those."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings_read_by_the_code() -> set[str]:
    """Every `CC_*` environment variable named in the package (settings.py and the few secret readers)."""
    names = set()
    for path in (ROOT / "cc_reporting").rglob("*.py"):
        if "simulate" in path.parts:
            continue
        names |= set(re.findall(r'"(CC_[A-Z0-9_]*[A-Z0-9])"', path.read_text()))
    # The SFTP resource builds its names from one prefix (`f"{ENV_PREFIX}_{suffix}"`).
    sftp = (ROOT / "cc_reporting" / "delivery" / "sftp.py").read_text()
    names.discard("CC_TELEOPTI_SFTP")
    names |= {f"CC_TELEOPTI_SFTP_{s}" for s in re.findall(r'var\("([A-Z_]+)"\)', sftp)}
    names |= {f"CC_TELEOPTI_SFTP_{s}" for s in re.findall(r'ENV_PREFIX}_([A-Z_]+)', sftp)}
    return names


def settings_in_the_readme_table() -> set[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in table.splitlines():
        if not line.startswith("| `CC_"):
            continue
        first_cell = line.split("|")[1]
        full = re.findall(r"`(CC_[A-Z0-9_]+)`", first_cell)
        names |= set(full)
        prefix = full[0].rsplit("_", 1)[0] if full else ""
        names |= {prefix + s for s in re.findall(r"`(_[A-Z0-9_]+)`", first_cell)}  # `CC_X_HOST`, `_PORT`, …
    return names


def test_every_setting_the_code_reads_is_in_the_readme_table():
    assert sorted(settings_read_by_the_code() - settings_in_the_readme_table()) == []


def test_the_readme_table_names_no_setting_the_code_does_not_read():
    assert sorted(settings_in_the_readme_table() - settings_read_by_the_code()) == []
