"""The docs hold together: every relative link in the project's Markdown points to a file that
exists and, with a #fragment, to a heading that exists there (GitHub's anchors); the README stays
a front page (at most 15 KB, a table of contents that reaches every page of docs/); the query
catalogue is in the repository and the marts' YAML cites it. No Spark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
PAGES = sorted([PROJECT_DIR / "README.md", *PROJECT_DIR.glob("docs/*.md"),
                *(PROJECT_DIR / d / "README.md" for d in ("benchmarks", "legacy", "dags", "analyses"))])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where a [x](y) is not a link."""
    text = re.sub(r"(?ms)^```.*?^```", "", text)
    return re.sub(r"`[^`\n]*`", "", text)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (letters, digits, `_`,
    `-` and spaces kept), each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"(?m)^#{1,6} (.+)$", re.sub(r"(?ms)^```.*?^```", "", path.read_text())):
        base = github_anchor(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def test_the_anchor_rule_matches_githubs_on_headings_of_this_project() -> None:
    assert github_anchor("The CLI: `seglog`") == "the-cli-seglog"
    assert github_anchor("The local rehearsal: `make rehearse [DATE=2023-11-08]`") == \
        "the-local-rehearsal-make-rehearse-date2023-11-08"
    assert github_anchor("Conversion guide: Redshift construct → Spark/dbt, and the pitfalls the harness found") == \
        "conversion-guide-redshift-construct--sparkdbt-and-the-pitfalls-the-harness-found"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_every_relative_link_reaches_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest}")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target}: no heading #{fragment} in {dest.relative_to(PROJECT_DIR)}")
    assert broken == []


def test_the_readme_is_a_front_page_that_reaches_every_doc() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    assert len(readme.encode()) <= 15 * 1024
    contents = readme[readme.index("## Contents"):readme.index("## The two commands")]
    linked = {target for target in LINK.findall(contents)}
    assert {f"docs/{p.name}" for p in PROJECT_DIR.glob("docs/*.md")} - linked == set()
    # the two commands come first after the contents
    assert readme.index("make run") < readme.index("## Daily use")


def test_the_catalogue_is_in_the_repo_and_the_marts_cite_it() -> None:
    catalogue = (PROJECT_DIR / "docs" / "queries.md").read_text()
    table = re.findall(r"(?m)^\| (Q\d\d) \| `(\w+)`", catalogue)
    assert [q for q, _ in table] == [f"Q{n:02d}" for n in range(1, 19)]
    for yml in PROJECT_DIR.glob("models/marts/*/_*__models.yml"):
        assert "docs/queries.md" in yml.read_text(), yml
    # every mart of the catalogue is a model of that name
    models = {p.stem for p in PROJECT_DIR.glob("models/marts/*/*.sql")}
    assert {model for _, model in table} - models == set()
