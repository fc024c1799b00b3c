"""Write every file derived from the change monitor's table of settings, or check them.

``python tools/settings.py``          rewrite the generated parts (``make settings``)
``python tools/settings.py --check``  exit 1 naming each file that is not current (``make test``)

The table is ``change_monitor/settings.py`` (``SETTINGS``). A generated part sits
between a ``BEGIN settings`` and an ``END settings`` line of its file; the rest of the
file is written by hand. What is derived:

- ``dr_monitor/vars/main.yml``: the function's environment and the role variable behind
  each variable (whole file);
- ``dr_monitor/defaults/main.yml`` and ``meta/argument_specs.yml``: the role's variables;
- ``dr_table_hosts/meta/argument_specs.yml``: the monitor keys of a table entry (and, until
  0.4.0, their names before 0.3.0), and ``dr_table_hosts/vars/main.yml``: those renames;
- ``playbooks/vars/protect_table.yml``: a table entry's keys to the role's variables;
- ``lambda/README.md`` and ``dr_monitor/README.md``: the table of settings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = ROOT / "collections/ansible_collections/ddbguard/dr"
sys.path.insert(0, str(COLLECTION / "roles/dr_monitor/files"))

from change_monitor.settings import SETTINGS, Setting  # noqa: E402

BEGIN = "BEGIN settings: generated from change_monitor/settings.py by make settings; do not edit"
END = "END settings"


def _yaml(value: object) -> str:
    """A YAML scalar or flow list (JSON is YAML; Jinja strings stay quoted)."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, str) and (value == "" or not value.replace("_", "").replace("-", "").isalnum()):
        return json.dumps(value)
    return str(value)


def _doc_default(s: Setting) -> str:
    if s.required and not s.deployed_doc:
        return "required"
    if s.deployed_doc:
        return s.deployed_doc
    value = s.role_default
    return ",".join(value) if isinstance(value, tuple) else str(value)


def _description(s: Setting, with_default: bool = True) -> str:
    text = s.meaning
    if s.type == "int":
        text = f"{text.removesuffix('.')} ({s.low}-{s.high})."
    if s.deployed_doc and with_default:
        text = f"{text} Defaults to {s.deployed_doc}."
    return text


def _spec(name: str, s: Setting, default: object, indent: str) -> list[str]:
    lines = [f"{indent}{name}:"]
    kind = {"events": "list", "int": "int"}.get(s.type, "str")
    lines.append(f"{indent}  type: {kind}")
    if kind == "list":
        lines.append(f"{indent}  elements: str")
    if s.choices:
        # Events as operators read them: the most common first.
        choices = sorted(s.choices, key=["REMOVE", "MODIFY", "INSERT"].index) if s.type == "events" else s.choices
        lines.append(f"{indent}  choices: {_yaml(choices)}")
    if s.required and default is None and not s.entry_was:
        lines.append(f"{indent}  required: true")
    elif default is not None:
        lines.append(f"{indent}  default: {_yaml(default)}")
    lines.append(f"{indent}  description: {json.dumps(_description(s))}")
    return lines


def role_vars() -> list[str]:
    env = ["_dr_monitor_environment:"]
    names = ["_dr_monitor_environment_names:"]
    for s in SETTINGS:
        rendered = s.rendered or {
            "events": f"{{{{ {s.variable} | join(',') }}}}",
            "int": f"{{{{ {s.variable} | string }}}}",
        }.get(s.type, f"{{{{ {s.variable} }}}}")
        env.append(f"  {s.env}: {json.dumps(rendered)}")
        names.append(f"  {s.env}: {s.variable}")
    return [
        "# The function's environment: its whole configuration, one variable per setting, and the",
        "# role variable behind each, so that an error names what the operator wrote. validate.yml",
        "# checks it with the function's own code before any AWS call; function.yml deploys it.",
        *env,
        *names,
    ]


def role_defaults() -> list[str]:
    out = []
    for s in SETTINGS:
        if s.required and s.deployed_doc == "":
            continue  # given by the play (dr_monitor_table_name)
        out.append(f"# {_description(s, with_default=False)}")
        out.append(f"{s.variable}: {_yaml(s.role_default)}")
    return out


def role_specs() -> list[str]:
    out = []
    for s in SETTINGS:
        jinja = isinstance(s.role_default, str) and "{{" in s.role_default
        default = None if (s.required and not s.deployed_doc) or jinja else s.role_default
        out += _spec(s.variable, s, default, "      ")
    return out


def entry_specs() -> list[str]:
    out = []
    for s in SETTINGS:
        if s.entry:
            out += _spec(s.entry, s, s.role_default, "      ")
    for s in SETTINGS:
        if s.entry_was:  # no default: the new key's fills in (dr_table_hosts folds the old one into it)
            deprecated = Setting(**{**s.__dict__, "meaning": f"Deprecated name of {s.entry} (removed in 0.4.0)."})
            out += _spec(s.entry_was, deprecated, None, "      ")
    return out


def entry_renames() -> list[str]:
    return [
        "# A table entry's monitor keys before 0.3.0 and their names since (dr_table_hosts folds them).",
        "_dr_table_hosts_renamed_settings:",
        *(f"  {s.entry_was}: {s.entry}" for s in SETTINGS if s.entry_was),
    ]


def protect_table() -> list[str]:
    return [f'{s.variable}: "{{{{ ddbguard_table.{s.entry} }}}}"' for s in SETTINGS if s.entry]


def readme_table() -> list[str]:
    rows = [
        "| Role variable | Table entry key | Environment | Default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        entry = f"`{s.entry}`" if s.entry else ""
        if s.entry_was:
            entry += f" (`{s.entry_was}` until 0.4.0)"
        choices = f" One of {', '.join(s.choices)}." if s.choices else ""
        rows.append(f"| `{s.variable}` | {entry} | `{s.env}` | `{_doc_default(s)}` | {_description(s)}{choices} |")
    return rows


R = COLLECTION / "roles"
TARGETS = {
    R / "dr_monitor/vars/main.yml": ("#", role_vars),
    R / "dr_monitor/defaults/main.yml": ("#", role_defaults),
    R / "dr_monitor/meta/argument_specs.yml": ("      #", role_specs),
    R / "dr_table_hosts/meta/argument_specs.yml": ("      #", entry_specs),
    R / "dr_table_hosts/vars/main.yml": ("#", entry_renames),
    ROOT / "playbooks/vars/protect_table.yml": ("#", protect_table),
    ROOT / "lambda/README.md": ("<!--", readme_table),
    R / "dr_monitor/README.md": ("<!--", readme_table),
}


def render(path: Path, text: str) -> str:
    """The file's text with its generated part current."""
    comment, lines = TARGETS[path]
    close = " -->" if comment == "<!--" else ""
    begin, end = f"{comment} {BEGIN}{close}", f"{comment} {END}{close}"
    before, found, rest = text.partition(begin + "\n")
    if not found:
        raise SystemExit(f"{path.relative_to(ROOT)}: no '{begin}' line")
    _old, found, after = rest.partition(end + "\n")
    if not found:
        raise SystemExit(f"{path.relative_to(ROOT)}: no '{end}' line")
    return before + begin + "\n" + "\n".join(lines()) + "\n" + end + "\n" + after


def main(argv: list[str]) -> int:
    stale = []
    for path in TARGETS:
        text = path.read_text()
        current = render(path, text)
        if current != text:
            stale.append(str(path.relative_to(ROOT)))
            if "--check" not in argv:
                path.write_text(current)
    if stale and "--check" in argv:
        print(f"not current (run make settings): {', '.join(stale)}", file=sys.stderr)
        return 1
    for name in stale:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
