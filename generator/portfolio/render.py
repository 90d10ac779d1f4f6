"""Stage 5: generate the site's Markdown pages and the engine config from projects/ and results/.

Everything goes to ``.build/`` (ignored by git): ``docs/`` with one page per project,
the home and results pages and their assets, and ``mkdocs.yml``, which inherits the
user's ``mkdocs.yml`` and adds the generated nav and the theme overrides.

The templates ship inside the package (``portfolio/site_templates``, edited in this
repository's top-level ``site_templates/``). A portfolio repository may have a
``site_templates/`` of its own: each file in it replaces the packaged file of that name.
Rendering never trains and never imports TensorFlow or matplotlib.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup, escape

from portfolio import (
    caches,
    demopage,
    gitignore,
    narrative,
    notebook,
    publiclog,
    results,
    views,
)
from portfolio.config import Profile, is_url, load_mkdocs_yml, profile_of
from portfolio.domain import Project, ProjectState, Workspace
from portfolio.errors import ConfigError, display
from portfolio.views import text  # every template value is escaped by it

CSS = "assets/portfolio.css"
JS = "assets/sortable.js"


def packaged_templates() -> Path:
    """The templates that ship with portfolio: inside the installed package (a wheel), or
    the top-level ``site_templates/`` beside ``generator/`` (a source checkout, an editable
    install)."""
    package = Path(__file__).resolve().parent
    inside = package / "site_templates"
    return inside if inside.is_dir() else package.parent.parent / "site_templates"


def template_dirs(workspace: Workspace) -> list[Path]:
    """Where templates are looked up, first match wins: the portfolio's own
    ``site_templates/`` (when it has one), then the packaged ones."""
    packaged = packaged_templates()
    own = workspace.templates_dir
    if own.is_dir() and own.resolve() != packaged.resolve():
        return [own, packaged]
    return [packaged]


def _require_inside(workspace: Workspace) -> None:
    """No file of the portfolio's own ``site_templates/`` is a link out of the repository:
    the theme overrides and the stylesheet are published (a link to ``~/.ssh/id_rsa``
    under ``overrides/assets/`` would be a page of the site), and a clone has only the
    link. One located line for the first such link."""
    own, root = workspace.templates_dir, workspace.root.resolve()
    if not own.is_dir() or own.resolve() == packaged_templates().resolve():
        return
    seen: set[Path] = set()  # folders by where they are: a link back up is walked once
    for folder, dirs, files in os.walk(own, followlinks=True):
        here = Path(folder)
        if here.resolve() in seen:
            dirs.clear()
            continue
        seen.add(here.resolve())
        for path in (here / name for name in (*dirs, *files)):
            target = path.resolve()
            if not target.is_relative_to(root):
                raise ConfigError(
                    f"{display(path)}: a link to {target}, outside the repository: the site "
                    "publishes nothing from outside it; copy the file into the repository "
                    "instead of linking to it")


def _template_file(workspace: Workspace, relative: str) -> Path:
    """The file a page uses: the portfolio's own copy if it has one, else the packaged."""
    dirs = template_dirs(workspace)
    return next((d / relative for d in dirs if (d / relative).is_file()), dirs[-1] / relative)


def markdown_only(value: object) -> Markup:
    """Markdown from a script (``portfolio.note``): its emphasis, lists, code and links work;
    HTML, attribute lists (``{: onerror=...}``) and links to anything but http(s), mailto or
    a relative path do not. It is rendered here, with no extension, into a block of HTML
    that the site's own Markdown (and its ``attr_list``) leaves as it is."""
    import markdown

    converter = markdown.Markdown(extensions=[], output_format="html")
    # After "unescape" (priority 0), so a URL is judged as the browser will read it.
    converter.treeprocessors.register(_SafeLinks(), "portfolio-safe-links", -10)
    body = converter.convert(str(escape(str(value))))
    return Markup(f'<div class="pf-note">\n{body}\n</div>')


# What a README's rendered Markdown may keep: Markdown's own output (headings, lists, tables,
# code, quotes, links, images) and the harmless HTML an owner writes by hand (nh3's default
# tags: <mark>, <details>, <figure>...). Never scripts, styles, forms, frames or event
# handlers; links and images only to http(s), mailto or a relative path.
_README_ATTRIBUTES = {"*": {"class", "id", "title", "lang", "dir"},
                      "a": {"href", "hreflang"}, "img": {"src", "alt", "width", "height"},
                      "th": {"align", "colspan", "rowspan", "scope"},
                      "td": {"align", "colspan", "rowspan"}, "ol": {"start"},
                      "details": {"open"}}
_README_BUILTINS = ["toc", "tables", "fenced_code"]  # what MkDocs always adds


def readme(story: narrative.Narrative, user_config: dict[str, Any]) -> narrative.Narrative:
    """The README narrative as sanitised HTML: each part rendered with the site's Markdown
    extensions, then cleaned by nh3 (Ammonia). Text pasted from a dataset card can carry
    ``<script>`` or ``onerror=``; the page keeps the Markdown's output and nothing that runs.
    Ids and classes are namespaced as GitHub does (:class:`_Namespace`). The converters are
    built only for a project that has a README (most pages have none)."""
    parts = [part for part in (story.intro, *story.steps.values(),
                               *(body for _, body in story.other)) if part.strip()]
    html: dict[str, str] = {}
    names = _Namespace()
    if parts:
        converter, plain = _readme_converters(user_config)
        for part in parts:
            html[part] = _convert(converter, part)
            names.learn(html[part], _convert(plain, part))

    def clean(markdown_text: str) -> str:
        if not markdown_text.strip():
            return ""
        import nh3

        body = nh3.clean(html[markdown_text], tags=nh3.ALLOWED_TAGS | {"tfoot"},
                         attributes=_README_ATTRIBUTES, url_schemes=set(_SAFE_SCHEMES),
                         attribute_filter=names.filter)
        return Markup(f'<div class="pf-readme">\n{body}\n</div>')

    return narrative.Narrative(intro=clean(story.intro),
                               steps={k: clean(v) for k, v in story.steps.items()},
                               other=[(heading, clean(body)) for heading, body in story.other])


USER_CONTENT = "user-content-"  # GitHub's prefix for the ids and classes a README writes
# The theme's own names: Material's (and Zensical's) ids start with "__" (``#__config``,
# which it reads its configuration from, ``#__search``, ``#__drawer``), its classes "md-".
_THEME_NAMES = ("__", "md-")


class _Namespace:
    """Which ids and classes of a README's HTML stay as they are, for nh3's
    ``attribute_filter``. A README (or a notebook cell) may write any id or class, in raw
    HTML or an attribute list; one named like the theme's wins over it: an element with
    ``id="__config"``, even in a closed ``<details>``, is where Material reads its settings
    from, and can send it to another host. So, as on GitHub, each id and class written in
    the README gets ``user-content-``, and a ``#x`` link to such an id follows it. What
    stays: the heading ids the ``toc`` extension made (the README's ``#anchor`` links) and
    the classes its Markdown extensions make (admonitions, highlighted code), which are
    learnt from the same text rendered with no raw HTML and no attribute lists; neither
    when it is named like the theme's."""

    def __init__(self) -> None:
        self.headings: set[str] = set()  # ids the toc extension gave headings
        self.classes: set[str] = set()  # classes the Markdown extensions produced
        self.written: set[str] = set()  # every id in the README's HTML

    def learn(self, html: str, plain_html: str) -> None:
        """Note the ids of ``html`` (the README part as rendered) and what the extensions
        made of the same part with the owner's HTML and attribute lists off."""
        import nh3

        def note(tag: str, attribute: str, value: str) -> str:
            if attribute == "id":
                self.written.add(value)
            return value

        def made(tag: str, attribute: str, value: str) -> str:
            if attribute == "id" and re.fullmatch(r"h[1-6]", tag):
                self.headings.add(value)
            elif attribute == "class":
                self.classes.update(value.split())
            return value

        nh3.clean(html, attributes={"*": {"id"}}, attribute_filter=note)
        nh3.clean(plain_html, attributes={"*": {"id", "class"}}, attribute_filter=made)

    def filter(self, tag: str, attribute: str, value: str) -> str:
        if attribute == "id":
            return value if self._kept_id(value) else USER_CONTENT + value
        if attribute == "class":
            return " ".join(name if name in self.classes and not name.startswith(_THEME_NAMES)
                            else USER_CONTENT + name for name in value.split())
        if attribute == "href" and value.startswith("#"):
            target = value[1:]
            if target in self.written and not self._kept_id(target):
                return f"#{USER_CONTENT}{target}"
        return value

    def _kept_id(self, value: str) -> bool:
        return value in self.headings and not value.startswith(_THEME_NAMES)


def _convert(converter: Any, markdown_text: str) -> str:
    converter.reset()
    return str(converter.convert(markdown_text))


def _readme_converters(user_config: dict[str, Any]) -> tuple[Any, Any]:
    """The README's converter, and one with the same extensions that treats raw HTML as
    text and reads no attribute lists: what it makes is the extensions' own output."""
    converter, plain = _readme_converter(user_config), _readme_converter(user_config)
    for registry, name in ((plain.preprocessors, "html_block"),
                           (plain.inlinePatterns, "html"),
                           (plain.treeprocessors, "attr_list")):
        if name in registry:
            registry.deregister(name)
    return converter, plain


def _readme_converter(user_config: dict[str, Any]) -> Any:
    """A Python-Markdown converter with the extensions in the user's ``mkdocs.yml``; MkDocs'
    built-in three alone when those do not load here."""
    import markdown

    names, configs = list(_README_BUILTINS), {}
    for item in user_config.get("markdown_extensions") or []:
        entries = item.items() if isinstance(item, dict) else [(item, None)]
        for name, options in entries:
            names.append(str(name))
            if isinstance(options, dict):
                configs[str(name)] = options
    try:
        return markdown.Markdown(extensions=list(dict.fromkeys(names)),
                                 extension_configs=configs, output_format="html")
    except Exception:  # a third-party extension, or an option, that cannot load here
        return markdown.Markdown(extensions=_README_BUILTINS, output_format="html")


class _SafeLinks:
    """A Python-Markdown tree processor (duck-typed: the base class's module is imported
    only when a note is rendered) that passes every link and image through safe_url."""

    def run(self, root: Any) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                if element.get(attribute) is not None:
                    element.set(attribute, safe_url(element.get(attribute)))


# Browsers drop ASCII tab and newlines anywhere in a URL, and C0 controls and spaces at
# either end, before they read its scheme: "java\nscript:" and "\x01javascript:" are
# javascript: URLs to them.
_URL_DROPPED = re.compile(r"[\t\n\r]")
_URL_ENDS = "".join(map(chr, range(0x21)))
_URL_IGNORED_FOR_SCHEME = re.compile(r"[\x00-\x20\x7f]")
_SAFE_SCHEMES = ("http", "https", "mailto")


def safe_url(value: object) -> str:
    """The URL a browser would follow, if it is http(s), mailto or relative; else "#"."""
    target = _URL_DROPPED.sub("", str(value or "")).strip(_URL_ENDS)
    # Judged with every control character and space removed, so none can hide a scheme.
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", _URL_IGNORED_FOR_SCHEME.sub("", target))
    if scheme and scheme[1].lower() not in _SAFE_SCHEMES:
        return "#"
    return target


def url(value: object) -> Markup:
    """A link target: http(s), mailto or a relative path; anything else (javascript:, data:,
    also when hidden behind characters browsers drop) becomes a dead link."""
    return text(safe_url(value))


def environment(templates: list[Path]) -> jinja2.Environment:
    """Our own Jinja2 environment: every value is escaped for Markdown and HTML by
    ``finalize``, and any undefined name is an error, not an empty string."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=text,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=caches.template_bytecode("pages"),
    )
    env.filters.update(fmt=views.fmt, url=url, markdown_only=markdown_only)
    # ``tojson`` (a page's front matter) writes a NUL as "\u0000", which the engine reads
    # back into a raw NUL in the page's <title> and meta tags.
    env.policies["json.dumps_function"] = _json_without_nul
    return env


def _json_without_nul(value: Any, **options: Any) -> str:
    import json

    return json.dumps(without_nul(value) if isinstance(value, str) else value, **options)


@dataclasses.dataclass(frozen=True)
class Rendered:
    """What rendering produced: the engine config, its pages folder, and the link-preview
    images still to draw (``preview.start`` draws them; rendering imports no matplotlib)."""

    config: Path
    docs: Path
    previews: list[tuple[dict[str, Any], str]]


def render(workspace: Workspace, states: list[ProjectState], out: Path | None = None,
           stale: dict[str, str] | None = None) -> Rendered:
    """Write ``.build/docs`` and ``.build/mkdocs.yml`` (or into ``out``: ``serve`` uses a
    folder of its own, so a build's pages are never its to replace). Only files whose
    content changed are written, and files no page needs any more are removed: a no-op
    build leaves the pages, their times and the engine's inputs as they were. ``stale``:
    why a project's results are behind its files, by slug (the live preview's banner)."""
    _require_templates(template_dirs(workspace))
    _require_inside(workspace)
    user_config = load_mkdocs_yml(workspace.mkdocs_yml)
    profile = profile_of(user_config, workspace.mkdocs_yml)
    out = out or workspace.build_dir
    docs = Tree(out / "docs")
    env = environment(template_dirs(workspace))
    imports = caches.Imports()
    stale = stale or {}
    project_views = [dataclasses.replace(view, story=readme(view.story, user_config),
                                         stale=stale.get(view.slug, ""))
                     for view in (views.project_view(state, imports) for state in states)]
    imports.save()
    ignored = ignored_among(workspace.root, [*(s.project.script for s in states),
                                             *profile.local_files(workspace.root)])

    for view, state in zip(project_views, states, strict=True):
        page = f"projects/{view.slug}"
        _copy_assets(state, view, docs, page, ignored)
        docs.write(f"{page}/index.md", env.get_template("project.md.j2").render(p=view))
        docs.write(f"{page}/model-index.yaml",
                   _yaml(view.model_index()))

    docs.write("robots.txt", _robots(user_config))
    previews = _previews(user_config, profile, project_views, states)
    profile = _copy_profile_files(workspace.root, profile, docs, ignored)
    docs.write("index.md", env.get_template("home.md.j2").render(
        profile=profile, projects=project_views, skills=views.skills(project_views),
        initials=_initials(profile.name)))
    docs.write("results/index.md", env.get_template("results.md.j2").render(
        projects=project_views))
    tags = _uses_tags(user_config) and any(v.tags for v in project_views)
    if tags:
        docs.write("tags.md", env.get_template("tags.md.j2").render())
    for asset in (CSS, JS):
        docs.copy(_template_file(workspace, asset), asset)
    if any(view.demo for view in project_views):  # the runtime, fetched on a visitor's Try
        docs.copy(_template_file(workspace, demopage.SCRIPT), demopage.SCRIPT)
        for name in demopage.RUNTIME_FILES:
            docs.copy(demopage.runtime_folder() / name, f"{demopage.RUNTIME_DIR}/{name}")
    docs.finish()

    config = out / "mkdocs.yml"
    derived = _derived_config(workspace, out, user_config,
                              [(v.slug, v.title) for v in project_views], tags)
    Tree(out).write("mkdocs.yml", _yaml(derived))
    return Rendered(config, docs.root, previews)


def check(workspace: Workspace, projects: list[Project], out: Path) -> Path:
    """What rendering will need, checked without rendering a page: the templates compile,
    ``mkdocs.yml`` and the profile load, every project's README reads. Returns the derived
    engine config, written into ``out`` with an empty pages folder, for the engine to
    validate (``site.check``)."""
    _require_templates(template_dirs(workspace))
    _require_inside(workspace)
    env = environment(template_dirs(workspace))
    for name in _TEMPLATES:
        env.get_template(name)
    user_config = load_mkdocs_yml(workspace.mkdocs_yml)
    profile_of(user_config, workspace.mkdocs_yml)
    for project in projects:
        narrative.read(project.folder, project.script)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    tags = _uses_tags(user_config) and any(p.meta.tags for p in projects)
    pages = [(p.slug, p.meta.title) for p in projects]
    config = out / "mkdocs.yml"
    config.write_text(_yaml(_derived_config(workspace, out, user_config, pages, tags)),
                      encoding="utf-8")
    return config


def without_nul(value: str) -> str:
    """``value`` with each NUL as U+FFFD, the character an HTML parser shows for it. A NUL
    from a ``project.yaml`` (YAML's ``"\\0"``), a metric name or a log would otherwise be
    written raw into the pages (into every page's nav, from a title)."""
    return value.replace("\0", "\ufffd")


class Tree:
    """A folder of generated files, rewritten only where the content changed; what was not
    produced this time is removed by :meth:`finish`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.produced: set[str] = set()
        root.mkdir(parents=True, exist_ok=True)

    def write(self, relative: str, text: str) -> None:
        target = self._claim(relative)
        data = without_nul(text).encode("utf-8")
        if not (target.is_file() and target.stat().st_size == len(data)
                and target.read_bytes() == data):
            target.write_bytes(data)

    def copy(self, source: Path, relative: str) -> None:
        """Copy unless the target already has the source's size and modification time
        (``copy2`` keeps the time, so an unchanged figure is never copied again)."""
        target = self._claim(relative)
        info = source.stat()
        if target.is_file():
            have = target.stat()
            if have.st_size == info.st_size and have.st_mtime_ns == info.st_mtime_ns:
                return
        shutil.copy2(source, target)

    def figure(self, source: Path, relative: str) -> None:
        """A figure for the page: a PNG chart (at most 4,096 colours: lines, bars, text)
        as a 256-colour palette image, about a third of matplotlib's full-colour file; a
        photograph-like PNG, or any other file, as it is. The results keep the original."""
        if source.suffix.lower() != ".png":
            self.copy(source, relative)
            return
        self._draw(source, relative, width=None, colors=256)

    def shrink(self, source: Path, relative: str, width: int) -> None:
        """A copy of the PNG ``source`` at most ``width`` pixels wide (a card's thumbnail),
        as a palette image."""
        self._draw(source, relative, width=width, colors=128)

    def _draw(self, source: Path, relative: str, width: int | None, colors: int) -> None:
        """Made again only when the source changed: the copy keeps its modification time."""
        target = self._claim(relative)
        info = source.stat()
        if target.is_file() and target.stat().st_mtime_ns == info.st_mtime_ns:
            return
        from PIL import Image  # matplotlib's own dependency; imported only when drawing

        try:
            with warnings.catch_warnings():
                # Over its pixel limit Pillow warns, at twice that it raises: either way an
                # image that would take gigabytes to draw (views.oversized keeps PNGs off
                # the page; this catches what a header did not tell), left out of the site.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(source) as original:
                    image = original.convert("RGBA")
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            self.produced.discard(relative)
            target.unlink(missing_ok=True)
            print(f"warning: {source}: not published: {exc}", file=sys.stderr, flush=True)
            return
        except (OSError, ValueError):  # not an image Pillow reads: published as it is
            shutil.copy2(source, target)
            return
        if width is not None and image.width > width:
            height = max(1, round(image.height * width / image.width))
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        if width is None and image.getcolors(4096) is None:  # a photograph: kept as it is
            shutil.copy2(source, target)
            return
        # No dithering: a chart's flat colours stay flat.
        image = image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                               dither=Image.Dither.NONE)
        # Pillow's optimize=True would save a fifth more, at four times the time of the
        # whole conversion: an edited project's rebuild must stay quick.
        image.save(target, format="PNG")
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))

    def _claim(self, relative: str) -> Path:
        self.produced.add(relative)
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def finish(self) -> None:
        for path in sorted(self.root.rglob("*"), reverse=True):  # files before their folders
            relative = path.relative_to(self.root).as_posix()
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            elif relative not in self.produced:
                path.unlink()


_TEMPLATES = ("home.md.j2", "project.md.j2", "results.md.j2", "tags.md.j2")


def _require_templates(folders: list[Path]) -> None:
    """Every page template is found (the packaged ones are always there, unless the
    installation is broken)."""
    missing = [name for name in _TEMPLATES if not any((f / name).is_file() for f in folders)]
    if missing:
        raise ConfigError(
            f"{folders[-1]}/ lacks {', '.join(missing)}: the installed portfolio package is "
            "incomplete; reinstall it")


def _theme_dir(workspace: Workspace, out: Path) -> Path:
    """Material's ``custom_dir``: the packaged overrides, or the portfolio's own
    ``site_templates/overrides/`` when it replaces every packaged file; otherwise both,
    merged into ``out/overrides`` (the portfolio's files win)."""
    dirs = [d / "overrides" for d in template_dirs(workspace)]
    merged = out / "overrides"
    if len(dirs) == 1 or not dirs[0].is_dir():
        shutil.rmtree(merged, ignore_errors=True)
        return dirs[-1]
    own, packaged = dirs
    names = {p.relative_to(packaged).as_posix() for p in packaged.rglob("*") if p.is_file()}
    mine = {p.relative_to(own).as_posix() for p in own.rglob("*") if p.is_file()}
    if names <= mine:
        shutil.rmtree(merged, ignore_errors=True)
        return own
    tree = Tree(merged)
    for name in sorted(names | mine):
        tree.copy((own if name in mine else packaged) / name, name)
    tree.finish()
    return merged


def _previews(config: dict[str, Any], profile: Profile, project_views: list[views.ProjectView],
              states: list[ProjectState]) -> list[tuple[dict[str, Any], str]]:
    """1200×630 link-preview images to draw: one per project, one for the home page."""
    site_name = str(config.get("site_name") or profile.name)
    specs: list[tuple[dict[str, Any], str]] = [({
        "kicker": site_name, "title": profile.name, "headline": profile.headline or "",
        "detail": f"{len(project_views)} deep-learning projects, each scored against "
                  "published baselines" if project_views else ""}, "assets/preview.png")]
    for view, state in zip(project_views, states, strict=True):
        history = state.good.history if state.good else []
        curve = [float(r["loss"]) for r in history if r.get("loss") not in (None, "")]
        headline, detail = view.preview_text
        specs.append(({"kicker": f"{profile.name} · {site_name}", "title": view.title,
                       "headline": headline, "detail": detail,
                       "curve": curve[:200]}, f"projects/{view.slug}/preview.png"))
    return specs


def _robots(config: dict[str, Any]) -> str:
    site_url = str(config.get("site_url") or "")
    sitemap = f"Sitemap: {site_url.rstrip('/')}/sitemap.xml\n" if site_url else ""
    return f"User-agent: *\nAllow: /\n{sitemap}"


def _uses_tags(config: dict[str, Any]) -> bool:
    plugins = config.get("plugins") or []
    names = [next(iter(p)) if isinstance(p, dict) else p for p in plugins]
    return "tags" in names or "material/tags" in names


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper() or "?"


def _derived_config(workspace: Workspace, build: Path, user: dict[str, Any],
                    pages: list[tuple[str, str]], tags: bool) -> dict[str, Any]:
    """The engine config: the user's ``mkdocs.yml`` inherited, the generated nav (``pages``
    are (slug, title) of each project) and the theme overrides added."""
    nav: list[Any] = [{"Home": "index.md"}]
    if pages:
        # The theme prints nav labels and page titles as they are: they must arrive escaped.
        nav.append({"Projects": [{str(escape(without_nul(title))): f"projects/{slug}/index.md"}
                                 for slug, title in pages]})
        nav.append({"Results": "results/index.md"})
    if tags:
        nav.append({"Tags": "tags.md"})
    return {
        "INHERIT": _relative(workspace.mkdocs_yml, build),
        "docs_dir": "docs",
        "site_dir": _relative(workspace.site_dir, build),
        "theme": {"custom_dir": _relative(_theme_dir(workspace, build), build)},
        # Lists replace, not merge, under INHERIT: keep the user's stylesheets and add ours.
        "extra_css": [*[c for c in user.get("extra_css", []) if c != CSS], CSS],
        "extra_javascript": [*[j for j in user.get("extra_javascript", []) if j != JS], JS],
        "nav": nav,
    }


def _yaml(data: Any) -> str:
    """YAML as ``yaml.safe_dump`` writes it, with libyaml's emitter when PyYAML has it (a
    tenth of the time, for a page's model-index and the engine config on every build)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True)


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)


def _copy_assets(state: ProjectState, view: views.ProjectView, docs: Tree, page: str,
                 ignored: set[str]) -> None:
    """Figures, model and log beside the page, so their links are relative and portable."""
    run = state.good
    if run is not None:
        for figure in view.figures:
            docs.figure(run.folder / figure.path, f"{page}/{figure.path}")
            if figure.full_path and run.file(figure.full_path):
                docs.figure(run.folder / figure.full_path, f"{page}/{figure.full_path}")
        if run.model_file is not None and state.project.meta.publish_model:
            docs.copy(run.model_file, f"{page}/{run.model_file.name}")
        card, thumbnail = view.card, view.thumbnail
        if card is not None and thumbnail is not None and card.path == views.CARD_IMAGE:
            docs.shrink(run.folder / thumbnail.path, f"{page}/{card.path}", card.width or 1)
        if view.demo is not None:  # the model as ONNX, the examples, their thumbnails
            for name in (view.demo.model_href, view.demo.examples_href,
                         *(e.thumbnail for e in view.demo.examples if e.thumbnail)):
                docs.copy(run.folder / name, f"{page}/{name}")
        if run.file(results.METRICS):  # not a symlink the script left to a file outside
            docs.copy(run.folder / results.METRICS, f"{page}/{results.METRICS}")
        # The clean log with the machine's paths hidden, never the raw one (progress-bar
        # escape codes, the user's home and Python folders).
        if (log := publiclog.published(run, state.project)) is not None:
            docs.write(f"{page}/{results.LOG}", log)
    script = state.project.script
    if publishable(state.project.folder.parent.parent, script, ignored):  # from Reproduce
        # The copy the run kept when its results have one: the script those results came
        # from, not the file as it is now.
        ran = run.script_file if run is not None and view.script_href != view.script else None
        if notebook.is_notebook(script):  # its cells, not the outputs saved with them
            docs.write(f"{page}/{view.script_href}", notebook.without_outputs(ran or script))
        else:
            docs.copy(ran or script, f"{page}/{view.script_href}")
    if state.failure is not None and (
            log := publiclog.published(state.failure, state.project)) is not None:
        docs.write(f"{page}/failed-log.txt", log)


def publishable(root: Path, path: Path, ignored: set[str] | None = None) -> bool:
    """Whether a repository file may be copied into the public site: not a hidden file, not
    outside the repository, not ignored by git (where secrets and local data live: every
    ``.gitignore``, ``.git/info/exclude``). ``ignored``: git's answer for a batch of files
    (:func:`ignored_among`), to ask it once per render."""
    rel = _inside(root, path)
    if rel is None or any(part.startswith(".") for part in rel.split("/")):
        return False
    return rel not in (ignored if ignored is not None else gitignore.ignored(root, [rel]))


def ignored_among(root: Path, paths: list[Path]) -> set[str]:
    """The files of ``paths`` git ignores, as POSIX paths relative to ``root``."""
    return gitignore.ignored(root, [rel for path in paths if (rel := _inside(root, path))])


def _inside(root: Path, path: Path) -> str | None:
    resolved, base = path.resolve(), root.resolve()
    if not path.is_file() or not resolved.is_relative_to(base):
        return None
    return resolved.relative_to(base).as_posix()


def _copy_profile_files(root: Path, profile: Profile, docs: Tree,
                        ignored: set[str]) -> Profile:
    """Local avatar and CV files are copied into the site; URLs are left as they are. A path
    to a hidden, ignored or outside file is dropped rather than published."""
    updates: dict[str, Any] = {}
    if profile.avatar and not is_url(profile.avatar):
        avatar = root / profile.avatar
        updates["avatar"] = None
        if publishable(root, avatar, ignored):
            docs.copy(avatar, f"assets/{avatar.name}")
            updates["avatar"] = f"assets/{avatar.name}"
    cv = profile.links.cv
    if cv and not is_url(cv):
        source = root / cv
        target = f"assets/{source.name}" if publishable(root, source, ignored) else None
        if target:
            docs.copy(source, target)
        updates["links"] = profile.links.model_copy(update={"cv": target})
    return profile.model_copy(update=updates)

