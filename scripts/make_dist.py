"""Build ``dist/reviewlake.zip``: the ``reviewlake`` package (with its default config and segmenter
files) for ``spark-submit --py-files`` on a cluster, whose executors then import the same code as
the driver.

    python scripts/make_dist.py [OUT.zip]

Only sources and package data go in (``*.py``, ``*.yaml``, ``*.txt``); no caches, no compiled extensions (a
zip cannot load them: on a cluster the ``jieba_c`` backend needs the package installed on the
nodes; ``segment.backend: jieba`` needs nothing but jieba).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("reviewlake",)


def build(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for package in PACKAGES:
            for path in sorted((ROOT / package).rglob("*")):
                if path.suffix in (".py", ".yaml", ".txt") and "__pycache__" not in path.parts:
                    z.write(path, path.relative_to(ROOT).as_posix())
    tmp.replace(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "reviewlake.zip"))
