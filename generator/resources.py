"""Where gen finds its templates and the example lesson.

templates/ and lesson_data/ live at the repository's top level. An editable install (or running
from a checkout) reads them there; a wheel carries a copy inside the package, generator/_shipped/,
put there by the build hook in setup.py. The packaged copy wins when it exists, so an installed gen
never picks up some other project's top-level folder in site-packages.

A teacher's own templates: when the folder gen runs in has templates/<target>/ (what `gen init`
writes), that folder is used for the target instead of the shipped one, the way ./lesson_data is
used instead of the shipped example lesson.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED = "_shipped"                                  # generator/_shipped/{templates,lesson_data}
CHECKOUT = Path(__file__).resolve().parent.parent     # the repository top level, in a checkout


def shipped(folder: str) -> Path:
    """The shipped copy of a top-level folder ("templates" or "lesson_data")."""
    packaged = resources.files(__package__) / SHIPPED / folder
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    top = CHECKOUT / folder
    if (CHECKOUT / "pyproject.toml").is_file() and top.is_dir():
        return top
    # Not a user mistake: the installation lacks its data (a wheel built without the setup.py hook).
    raise RuntimeError(f"gen's {folder}/ is neither in the package ({packaged}) nor in a source checkout "
                       f"({top}); reinstall gen from a wheel built by `pip wheel .`")


def template_dir(target: str) -> Path:
    """The Jinja/HTML templates of one target ("anki", "worksheet", ...): ./templates/<target> when
    the current folder has it, else the shipped ones."""
    local = Path.cwd() / "templates" / target
    if local.is_dir():
        return local
    folder = shipped("templates") / target
    if not folder.is_dir():
        raise LookupError(f"gen ships no templates for target '{target}' (looked in {folder})")
    return folder


def example_lessons() -> Path:
    """The folder holding the shipped example lesson(s)."""
    return shipped("lesson_data")


def get_template(env, target: str, name: str):
    """One template of a target, from the folder `template_dir(target)` gave its Jinja loader. A
    teacher's own folder (gen init) that lacks the file is told how to get it, instead of failing
    as gen's bug."""
    import jinja2
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound:
        raise _missing(target, name) from None


def read_template_file(target: str, name: str) -> str:
    """A file among a target's templates that is not a Jinja template (the notebook's helpers.py)."""
    try:
        return (template_dir(target) / name).read_text("utf-8")
    except FileNotFoundError:
        raise _missing(target, name) from None


def _missing(target: str, name: str):
    from .errors import GenError
    return GenError(f"the {target} templates in {template_dir(target)} have no {name}; gen uses a template "
                    "folder whole, and this one predates that file.",
                    fix="copy the file from the templates a fresh `gen init` writes, or delete the folder "
                        "to use the shipped templates.")
