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


def defaults_in_settings_py() -> dict[str, str]:
    """`CC_X` → its literal default in settings.py: `env("CC_X", "d")`, and `env("CC_X") or "d"`."""
    import ast

    defaults = {}
    for node in ast.walk(ast.parse((ROOT / "cc_reporting" / "settings.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "env" and len(node.args) == 2:
            name, default = node.args
        elif (isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and isinstance(node.values[0], ast.Call)
              and getattr(node.values[0].func, "id", None) == "env"):
            name, default = node.values[0].args[0], node.values[1]
        else:
            continue
        # DAGSTER_HOME is Dagster's own variable (the README's commands set it), not a setting of the table
        if isinstance(name, ast.Constant) and isinstance(default, ast.Constant) and name.value.startswith("CC_"):
            defaults[name.value] = default.value
    return defaults


def readme_default_cells() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    cells = {}
    for line in table.splitlines():
        if line.startswith("| `CC_"):
            first, default = line.split("|")[1:3]
            for name in re.findall(r"`(CC_[A-Z0-9_]+)`", first):
                cells[name] = default
    return cells


# Read where they are used, as the README's Settings section says: the secrets (SFTP through dg.EnvVar, the RTA
# push key) and the RTA sensor's batch size, read once when the sensor module loads.
READ_OUTSIDE_SETTINGS_PY = {"CC_RTA_PUSH_KEY"}  # a secret: read through dg.EnvVar where it is used


def test_settings_py_reads_every_setting_of_the_readme_table_but_the_named_few():
    source = (ROOT / "cc_reporting" / "settings.py").read_text()
    in_settings = set(re.findall(r'"(CC_[A-Z0-9_]*[A-Z0-9])"', source))
    sftp_secrets = {n for n in settings_in_the_readme_table() if n.startswith("CC_TELEOPTI_SFTP_")}
    elsewhere = READ_OUTSIDE_SETTINGS_PY | (sftp_secrets - in_settings)
    assert sorted(settings_in_the_readme_table() - in_settings - elsewhere) == []
    assert sorted(READ_OUTSIDE_SETTINGS_PY & in_settings) == []   # moved into settings.py: drop it from the set
    readme = (ROOT / "README.md").read_text().split("## Settings", 1)[1].split("\n| variable", 1)[0]
    assert all(f"`{name}`" in readme for name in READ_OUTSIDE_SETTINGS_PY), readme
    for name in ("CC_ARCHIVE_IA_DAYS", "CC_ARCHIVE_EXPIRE_DAYS", "CC_HOT_RETENTION_DAYS", "CC_RTA_DIR", "CC_DATA_DIR"):
        assert name in in_settings and name in settings_in_the_readme_table(), name


def test_every_default_in_settings_py_is_the_readme_tables_default():
    defaults, cells = defaults_in_settings_py(), readme_default_cells()
    assert len(defaults) >= 25
    wrong = {name: (default, cells.get(name)) for name, default in defaults.items()
             if not (cells.get(name) or "").strip().startswith("unset" if default in (None, "") else f"`{default}`")
             and f", `{default}`" not in (cells.get(name) or "")}
    assert wrong == {}


def test_no_module_but_settings_py_reads_the_environment():
    """Settings are read in one place; secrets through dg.EnvVar where they are used (the simulator, a dev tool that
    never runs in a pipeline, excepted)."""
    readers = []
    for path in sorted((ROOT / "cc_reporting").rglob("*.py")):
        if path.name == "settings.py" or "simulate" in path.parts:
            continue
        text = path.read_text()
        readers += [f"{path.relative_to(ROOT)}: {word}" for word in ("os.environ", "os.getenv") if word in text]
    assert readers == []
