"""The README's two commands are the ones CI and users run."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_ci_runs_the_readmes_test_command_verbatim():
    test_command = next(c for c in readme_commands() if c.rstrip().endswith("pytest"))
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_demo_command_installs_and_runs_the_demo():
    demo = readme_commands()[0]
    assert "pip install -e ." in demo and demo.rstrip().endswith("cc-reporting demo")
