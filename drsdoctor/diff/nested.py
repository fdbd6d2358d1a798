"""Where a nested stack's template lives on disk, from its TemplateURL.

A root template names its children by S3 URL (`https://s3.amazonaws.com/${Bucket}/cfn/lambda-stack.yaml`),
while a checkout holds them as files (`cfn/lambda-stack.yaml`). The URL's key is matched against the
files: its longest suffix that exists under the parent template's folder, one of that folder's
ancestors, or the given template root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


class NotFollowed(Exception):
    """A nested stack whose template could not be found or read; the message says why."""


def template_file(url: Any, base_dir: Path | None, template_root: Path | None) -> Path:
    """The local file `url` names, or NotFollowed saying where it was looked for."""
    if not isinstance(url, str) or not url.strip():
        raise NotFollowed(f"its TemplateURL does not resolve to a text ({_shown(url)})")
    remote = "://" in url
    key = unquote(urlparse(url).path) if remote else url
    if not remote and base_dir is not None and (base_dir / key).is_file():
        return base_dir / key
    parts = [part for part in key.split("/") if part not in ("", ".", "..")]
    roots: list[Path] = []
    if base_dir is not None:  # the template's own checkout first: both sides may share one template root
        here = base_dir.resolve()
        roots += [here, *here.parents]
    if template_root is not None:
        roots.append(template_root)
    for start in range(len(parts)):  # the longest suffix first: cfn/x.yaml before x.yaml
        suffix = Path(*parts[start:])
        for root in roots:
            candidate = root / suffix
            if candidate.is_file():
                return candidate
    places = f"{base_dir} or its parents" if base_dir is not None else ""
    places += (" and " if places else "") + str(template_root) if template_root is not None else ""
    hint = "" if template_root is not None else "; give --template-root DIR"
    raise NotFollowed(f"no local file for {url} (looked for {'/'.join(parts) or '?'} under {places}){hint}")


def _shown(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
