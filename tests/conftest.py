from __future__ import annotations

import functools
import io
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

# A suite started in the background of a non-interactive shell (`pytest &` in a script) inherits
# SIGINT ignored, and every gen it starts would inherit that too: the tests that stop a build with
# SIGINT would see it finish instead. Python's own handler here means the builds start with the
# default again (exec resets handlers, but keeps an ignored signal ignored).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lesson_data"

# The official IMS XSDs (QTI 1.2, content packaging 1.1) are not part of the repository. They are
# found through GEN_IMS_SCHEMAS, else in ../shared/schemas beside the repository (where CI has them).
SCHEMAS_ENV = "GEN_IMS_SCHEMAS"
DEFAULT_SCHEMAS = ROOT.parent / "shared" / "schemas"
SCHEMA_FILES = ("qti12/ims_qtiasiv1p2.xsd", "cp11/imscp_v1p1.xsd", "cp11/imsmd_v1p2p2.xsd", "xml.xsd")


def in_ci(environ=os.environ) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_schemas(environ=os.environ, default=DEFAULT_SCHEMAS) -> Path:
    """The schema folder. Without one the calling test is skipped, or fails when CI is set (CI must
    validate); a GEN_IMS_SCHEMAS that points at no schemas always fails, since someone meant it."""
    explicit = environ.get(SCHEMAS_ENV)
    folder = Path(explicit) if explicit else default
    missing = [name for name in SCHEMA_FILES if not (folder / name).is_file()]
    if not missing:
        return folder
    if explicit:
        pytest.fail(f"{SCHEMAS_ENV}={explicit} lacks {', '.join(missing)}: point it at the folder holding "
                    "qti12/, cp11/ and xml.xsd.", pytrace=False)
    _unavailable(f"IMS schemas not found ({default} is missing and {SCHEMAS_ENV} is unset).",
                 f"set {SCHEMAS_ENV} to a folder holding qti12/, cp11/ and xml.xsd.", environ)


def _unavailable(problem: str, fix: str, environ) -> None:
    if in_ci(environ):
        pytest.fail(f"{problem} CI is set, so the schema validation may not be skipped: {fix}", pytrace=False)
    pytest.skip(f"{problem} Only this schema validation is skipped; to run it, {fix}")


@functools.cache
def _schema(folder: Path, xsd: str):
    try:
        import xmlschema
    except ImportError:
        _unavailable("xmlschema is not installed.", "pip install -e '.[test]'.", os.environ)
    local = {"http://www.w3.org/2001/03/xml.xsd": folder / "xml.xsd",
             "http://www.w3.org/2001/xml.xsd": folder / "xml.xsd",
             "http://www.imsglobal.org/xsd/imsmd_v1p2p2.xsd": folder / "cp11" / "imsmd_v1p2p2.xsd"}

    def offline(uri):
        if uri.startswith(("http://", "https://")):
            if uri not in local:
                raise ValueError(f"refusing to fetch {uri}: tests never use the network")
            return str(local[uri])
        return uri
    return xmlschema.XMLSchema(str(folder / xsd), uri_mapper=offline)


def validate_against_ims(xsd: str, document: bytes) -> None:
    """Validate a document against one IMS schema, e.g. "qti12/ims_qtiasiv1p2.xsd". Call it after the
    test's other assertions: when the schemas are missing it skips the rest of the test."""
    _schema(require_schemas(), xsd).validate(io.BytesIO(document))


def small_options(**kw):
    from generator.pipeline import Options
    base = dict(seed=42, variants=3, anki_variants=2, copies=2)
    base.update(kw)
    return Options(**base)


@pytest.fixture(scope="session")
def small_build(tmp_path_factory):
    """One small build of the real lesson, shared by the output tests."""
    from generator.pipeline import build
    out = tmp_path_factory.mktemp("small") / "build"
    files = build([LESSONS], out, small_options())
    manifest = json.loads(files["manifest.json"])
    return out, files, manifest


@pytest.fixture
def lesson_copy(tmp_path):
    """A writable copy of the real lesson file, to mutate."""
    path = tmp_path / "lesson.yaml"
    shutil.copy(LESSONS / "lesson-1.2.32.yaml", path)
    return path
