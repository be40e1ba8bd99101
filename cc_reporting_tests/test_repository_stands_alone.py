"""The repository explains itself: no issue numbers or "not built yet" in what a reader sees, and every Markdown
file it names is a file of the repository (no spec kept elsewhere, no `../shared`)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STALE = re.compile(r"\(issue\s*#?\d+\)|\bissue\s+#?\d+\b|not built yet|the issue's size", re.IGNORECASE)
MARKDOWN_NAME = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w-]+\.md)\b")


def readable_files():
    """README, docs, data/README and every file of the package (descriptions, docstrings, comments, YAML)."""
    yield ROOT / "README.md"
    yield ROOT / "data" / "README.md"
    yield from sorted((ROOT / "docs").glob("*.md"))
    for path in sorted((ROOT / "cc_reporting").rglob("*")):
        if path.suffix in {".py", ".yaml", ".sql", ".html"}:
            yield path


def _exists(name: str, where: Path) -> bool:
    """A name as a reader would follow it: from the repository root, from the file's folder, or as a docs file."""
    return any((base / name).is_file() for base in (ROOT, where.parent, ROOT / "docs"))


def test_no_issue_numbers_or_unfinished_notes():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}" for path in readable_files()
             for n, line in enumerate(path.read_text().splitlines(), 1) if STALE.search(line)]
    assert found == []


def test_every_markdown_file_named_is_in_the_repository():
    found = []
    for path in readable_files():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "../shared" in line or "shared/spec" in line:
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
            for name in MARKDOWN_NAME.findall(line):
                if not _exists(name, path):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {name}")
    assert found == []


def test_code_points_at_docs_files_by_path():
    """A bare `kpis.md` in the code could mean a spec kept elsewhere: the code names `docs/kpis.md`."""
    bare = re.compile(r"(?<![\w/.-])(analytics|kpis|teleopti-feed|connect-inputs|scaling)\.md")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in readable_files() if path.suffix != ".md"
             for n, line in enumerate(path.read_text().splitlines(), 1) if bare.search(line)]
    assert found == []
