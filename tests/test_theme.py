"""The theme stays in the designers' hands: every colour, spacing, text size and corner of
parley.css comes from its custom properties, a theme sets base ones only, and the formatter's
markup comes from templates."""

import re
from pathlib import Path

from django.conf import settings

from rooms.templatetags.chat import chat

STATIC = Path(settings.BASE_DIR) / "static" / "css"
PARLEY = STATIC / "parley.css"
FOREST = STATIC / "themes" / "forest.css"
# A colour written out: #rgb to #rrggbbaa, or a colour function given numbers.
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch)\(", re.I)
DECLARATION = re.compile(r"(?P<property>[\w-]+)\s*:\s*(?P<value>[^;{}]*)")


def declarations(path: Path) -> list[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    # Inside a rule's braces only: selectors like a:hover are not declarations.
    bodies = re.findall(r"\{([^{}]*)\}", css)
    return [
        (m["property"], m["value"].strip()) for body in bodies for m in DECLARATION.finditer(body)
    ]


def test_parley_css_writes_colours_only_in_its_custom_properties():
    written = [
        f"{prop}: {value}"
        for prop, value in declarations(PARLEY)
        if not prop.startswith("--") and COLOUR.search(value)
    ]
    assert written == []


# Declarations that space things out, size text or round corners: each takes its length from
# a custom property (--space-*, --text-*, --radius-*).
SCALED = re.compile(
    r"(margin|padding|inset)(-[\w-]+)?|gap|row-gap|column-gap|top|right|bottom|left"
    r"|font|font-size|line-height|border(-[\w-]+)?-radius"
)
LENGTH = re.compile(r"(?<![\w.-])-?(\d*\.)?\d+(rem|em|px)\b")
# Lengths that are not a step of the scale: the skip link parked off screen until focused.
OFF_SCREEN = {("inset-inline-start", "-999px")}


def lengths_written_out(path: Path) -> list[str]:
    return [
        f"{prop}: {value}"
        for prop, value in declarations(path)
        if SCALED.fullmatch(prop) and LENGTH.search(value) and (prop, value) not in OFF_SCREEN
    ]


def test_parley_css_writes_spacing_text_sizes_and_corners_only_in_its_custom_properties():
    assert lengths_written_out(PARLEY) == []


def test_the_scale_check_catches_a_length_written_out(tmp_path):
    css = tmp_path / "theme.css"
    css.write_text(
        ":root { --space-s: 0.5rem; }\n"
        ".a { padding: 0.3rem var(--space-s); border: 1px solid; }\n"
        ".b { font: 1rem/1.5 serif; border-start-end-radius: 2px; margin: 0 auto; }\n"
    )
    assert lengths_written_out(css) == [
        "padding: 0.3rem var(--space-s)",
        "font: 1rem/1.5 serif",
        "border-start-end-radius: 2px",
    ]


def test_every_property_parley_css_uses_is_declared():
    css = PARLEY.read_text()
    declared = {prop for prop, _value in declarations(PARLEY) if prop.startswith("--")}
    used = set(re.findall(r"var\((--[\w-]+)\)", css))
    # Set per element only, each used with a fallback: var(--reaction-bg, var(--surface)).
    optional = {"--avatar-bg", "--reaction-bg", "--reaction-border"}
    assert used - declared - optional == set()


def test_the_forest_theme_sets_only_base_properties_parley_css_declares():
    base = {prop for prop, value in declarations(PARLEY) if prop.startswith("--")}
    derived = {prop for prop, value in declarations(PARLEY) if "var(" in value}
    themed = {prop for prop, _value in declarations(FOREST)}
    assert themed <= base - derived
    assert {"--accent", "--bg", "--surface", "--text", "--font", "--radius"} <= themed


def test_a_designers_link_template_changes_the_drawn_message(settings, tmp_path):
    formats = tmp_path / "rooms" / "format"
    formats.mkdir(parents=True)
    # What a designer might write, |safe included: the parts come escaped already.
    (formats / "_link.html").write_text(
        '{# Ours. #}\n<a class="out" href="{{ href|safe }}">↗ {{ text|safe }}</a>\n'
    )
    text = 'see https://example.com/?a=1&b=2"><script>alert(1)</script> now'
    before = chat(text)
    assert 'target="_blank"' in before
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    assert chat(text) == (
        '<p>see <a class="out" href="https://example.com/?a=1&amp;b=2">'
        "↗ https://example.com/?a=1&amp;b=2</a>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
        " now</p>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": settings.TEMPLATES[0]["DIRS"][1:]}]
    assert chat(text) == before


def test_mentions_and_code_come_from_their_templates(settings, tmp_path):
    formats = tmp_path / "rooms" / "format"
    formats.mkdir(parents=True)
    (formats / "_mention.html").write_text(
        '<b class="mention" data-mention="{{ tag }}">{{ name }}</b>'
    )
    (formats / "_code.html").write_text("<kbd>{{ code }}</kbd>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    drawn = chat("hi @ada, try `<i>`")
    assert re.fullmatch(
        r'<p>hi <b class="mention" data-mention="n[0-9a-f]+">ada</b>, try <kbd>&lt;i&gt;</kbd></p>',
        drawn,
    )
