"""The Go-template lexer: where every action starts and ends, and what kind of action it is.

Each case is a template and the actions the lexer must report. Spans are checked by slicing
the text, so a reader sees exactly which characters an action covers.
"""

from __future__ import annotations

import pytest

from chartfix.sources.helm.template.lexer import Action, TemplateSyntaxError, lex
from chartfix.sources.helm.template.lines import split_lines


def spans(text: str) -> list[str]:
    return [text[a.start : a.end] for a in lex(text)]


def only(text: str) -> Action:
    actions = lex(text)
    assert len(actions) == 1, actions
    return actions[0]


# --- delimiters and spans -----------------------------------------------------------------


def test_text_without_actions_has_none() -> None:
    assert lex("apiVersion: v1\nkind: Service\n") == []


def test_plain_action_span_and_inner() -> None:
    text = "name: {{ .Release.Name }}-svc"
    action = only(text)
    assert text[action.start : action.end] == "{{ .Release.Name }}"
    assert action.inner == ".Release.Name"
    assert (action.trim_left, action.trim_right) == (False, False)


def test_several_actions_in_order() -> None:
    text = 'a: {{ .x }} b: {{ include "y" . }}\nc: {{.z}}'
    assert spans(text) == ["{{ .x }}", '{{ include "y" . }}', "{{.z}}"]


def test_trim_markers_both_sides() -> None:
    action = only("x\n  {{- .Values.a -}}\ny")
    assert (action.trim_left, action.trim_right) == (True, True)
    assert action.inner == ".Values.a"


@pytest.mark.parametrize(
    ("text", "left", "right"),
    [
        ("{{- .x }}", True, False),
        ("{{ .x -}}", False, True),
        ("{{-\t.x\t-}}", True, True),
        ("{{-\n.x\n-}}", True, True),
    ],
)
def test_trim_marker_needs_whitespace_next_to_the_dash(text: str, left: bool, right: bool) -> None:
    action = only(text)
    assert (action.trim_left, action.trim_right) == (left, right)
    assert action.inner == ".x"


def test_negative_number_is_not_a_trim_marker() -> None:
    action = only("{{-3}}")
    assert (action.trim_left, action.trim_right) == (False, False)
    assert action.inner == "-3"
    assert action.kind == "output"


def test_dash_before_closing_braces_without_space_is_not_a_trim_marker() -> None:
    action = only("{{ 3-}}")
    assert action.trim_right is False
    assert action.inner == "3-"


# --- comments --------------------------------------------------------------------------------


def test_comment() -> None:
    text = "a: 1\n{{/* a comment with }} inside */}}\nb: 2\n"
    action = only(text)
    assert text[action.start : action.end] == "{{/* a comment with }} inside */}}"
    assert action.kind == "comment"
    assert action.inner == "/* a comment with }} inside */"
    assert not action.produces_output


def test_trimmed_comment() -> None:
    text = "{{- /* note */ -}}"
    action = only(text)
    assert (action.start, action.end) == (0, len(text))
    assert action.kind == "comment"
    assert (action.trim_left, action.trim_right) == (True, True)


def test_comment_spanning_lines_is_one_action() -> None:
    text = "{{/*\nline one\nline two }}\n*/}}\nkind: Service\n"
    assert spans(text) == ["{{/*\nline one\nline two }}\n*/}}"]


# --- strings -------------------------------------------------------------------------------


def test_string_literal_containing_closing_braces() -> None:
    text = 'x: {{ printf "%s}}" .a | quote }} y'
    assert spans(text) == ['{{ printf "%s}}" .a | quote }}']


def test_string_literal_with_escaped_quote() -> None:
    text = r'{{ "a\"}}b" }}tail'
    assert spans(text) == [r'{{ "a\"}}b" }}']


def test_raw_string_with_braces_and_newlines() -> None:
    text = "a: {{ `one }}\ntwo {{` | trim }}\nb: 1\n"
    action = only(text)
    assert text[action.start : action.end] == "{{ `one }}\ntwo {{` | trim }}"
    assert action.kind == "output"


def test_action_spanning_lines() -> None:
    text = (
        'labels:\n  {{- include "x.labels" (dict\n      "ctx" $\n      "c" "web") | nindent 2 }}\n'
    )
    action = only(text)
    assert text[action.start : action.end].startswith('{{- include "x.labels" (dict\n')
    assert text[action.end :] == "\n"
    assert action.indent_argument() == 2


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: 1\nb: 2\nc: {{ .x\nd: 4\n", 3),
        ("a: 1\n{{ .x }}\n\n  {{- if .y }\n", 4),
        ('a: 1\nb: {{ "open }}\n', 2),
        ("a\r\n\r\n{{/* never closed\r\n", 3),
        ("a\nb\nc\nd: {{ `raw\n", 4),
        ("{{/* closed */ but not }}", 1),
    ],
)
def test_unterminated_action_names_its_line(text: str, line: int) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        lex(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")


def test_syntax_error_is_a_value_error() -> None:
    """Callers catch ValueError to turn a bad template into a TargetError."""
    with pytest.raises(ValueError):
        lex("{{")


# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "keyword"),
    [
        ("{{ .Values.x }}", "output", ""),
        ('{{ include "x.labels" . | nindent 4 }}', "output", ""),
        ("{{ $name }}", "output", ""),
        ("{{ $.Release.Name }}", "output", ""),
        ("{{- if .Values.enabled }}", "open", "if"),
        ("{{ if(.x) }}", "open", "if"),
        ("{{- with .Values.podLabels }}", "open", "with"),
        ("{{- range $name, $cfg := .Values.workers }}", "open", "range"),
        ('{{- define "x.labels" -}}', "open", "define"),
        ('{{ block "x" . }}', "open", "block"),
        ("{{- else }}", "else", "else"),
        ("{{ else if .y }}", "else", "else"),
        ("{{ else with .y }}", "else", "else"),
        ("{{- end }}", "end", "end"),
        ('{{- $name := include "x.fullname" . }}', "assign", ""),
        ("{{ $x = 2 }}", "assign", ""),
        ("{{ $ctx := . }}", "assign", ""),
        ("{{/* c */}}", "comment", ""),
        ("{{- break }}", "other", "break"),
        ("{{ continue }}", "other", "continue"),
        ("{{ ifx }}", "output", ""),
        ("{{ .end }}", "output", ""),
    ],
)
def test_classification(text: str, kind: str, keyword: str) -> None:
    action = only(text)
    assert (action.kind, action.keyword) == (kind, keyword)
    assert action.produces_output == (kind == "output")


# --- indent arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "argument", "new_line"),
    [
        ('{{- include "x.selectorLabels" . | nindent 6 }}', 6, True),
        ("{{ toYaml . | indent 4 }}", 4, False),
        ("{{- toYaml .Values.podLabels | nindent 8 -}}", 8, True),
        ("{{ toYaml . |nindent 10}}", 10, True),
        ('{{ include "x" . }}', None, False),
        ('{{ include "x" . | nindent 4 | trim }}', None, False),
        ("{{ .Values.indent }}", None, False),
    ],
)
def test_indent_argument(text: str, argument: int | None, new_line: bool) -> None:
    action = only(text)
    assert action.indent_argument() == argument
    assert action.starts_new_line is new_line


# --- logical lines ------------------------------------------------------------------------------


def test_lines_rejoin_to_the_text_and_keep_newline_styles() -> None:
    text = "\ufeffa: 1\r\nb: {{ if\n .x }}y{{ end }}\n\n  c: 3"
    lines = split_lines(text)
    assert "".join(text[line.start : line.end] + line.newline for line in lines) == text
    assert [line.newline for line in lines] == ["\r\n", "\n", "\n", ""]
    assert [line.number for line in lines] == [1, 2, 4, 5]
    assert [line.cls for line in lines] == ["content", "content", "blank", "content"]
    assert lines[3].indent == 2


def test_line_classes() -> None:
    text = (
        "---\n"
        "# a comment\n"
        "  {{- if .x }}\n"
        '    {{- include "x" . | nindent 4 }}\n'
        "a: {{ .y }}\n"
        "{{/* note */}}\n"
        "--- # doc\n"
    )
    assert [line.cls for line in split_lines(text)] == [
        "separator",
        "comment",
        "control",
        "generator",
        "content",
        "control",
        "separator",
        "blank",
    ]


def test_generator_line_lands_at_its_nindent_column() -> None:
    line = split_lines('  {{- include "x.labels" . | nindent 8 }}\n')[0]
    assert line.cls == "generator"
    assert (line.indent, line.effective_indent) == (2, 8)


def test_line_ending_with_right_trim_eats_the_following_newline() -> None:
    lines = split_lines("  a: {{ .x -}}\n  b: {{ .y }}\n")
    assert [line.trims_following for line in lines] == [True, False, False]


def test_right_trim_followed_by_trailing_spaces_still_eats_the_newline() -> None:
    lines = split_lines("  a: {{ .x -}}   \n  b: {{ .y }}\n")
    assert lines[0].trims_following
