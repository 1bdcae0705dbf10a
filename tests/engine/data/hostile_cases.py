"""Hostile input files for the import corpus: each case writes one file (or folder) in a folder.

A case is ``(name, make, expect, match)``: ``make(folder)`` returns the path to import and
the keyword arguments of the import (``fmt``, ``mapping``, ``test_fraction``); ``expect`` is
"refuse" (a clear error naming the file), "quarantine" (records quarantined with file, line
and field) or "either"; ``match`` is a regular expression the refusal or the first quarantine
reason must contain.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Callable

GOOD = {"prompt": "What is the dose?", "response": "Ten milligrams."}
CASES: list[tuple[str, Callable, str, str]] = []


def case(expect: str, match: str = ""):
    """Register the decorated function as one hostile case."""
    def register(make: Callable) -> Callable:
        CASES.append((make.__name__, make, expect, match))
        return make
    return register


def _lines(*rows: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def _write(folder: Path, name: str, text: str | bytes, **kwargs) -> tuple[Path, dict]:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path, kwargs


# --- JSON nesting, numbers and surrogates -----------------------------------------------------

@case("quarantine", r"line 2.*nested")
def jsonl_array_nested_100000_deep(folder):
    return _write(folder, "deep.jsonl", _lines(GOOD, "[" * 100_000 + "]" * 100_000, GOOD))


@case("quarantine", r"line 2.*nested")
def jsonl_object_nested_100000_deep(folder):
    return _write(folder, "deep-obj.jsonl", _lines(GOOD, '{"a":' * 100_000 + "1" + "}" * 100_000))


@case("quarantine", r"line 2.*nested")
def jsonl_field_nested_300_deep(folder):
    deep = '{"prompt": ' + "[" * 300 + "]" * 300 + ', "response": "r"}'
    return _write(folder, "deep300.jsonl", _lines(GOOD, deep))


@case("either", r"line 2")
def json_array_item_nested_100000_deep(folder):
    return _write(folder, "deep.json", "[" + json.dumps(GOOD) + ",\n" + "[" * 100_000
                  + "]" * 100_000 + "]")


@case("quarantine", r"line 2.*nested")
def json_array_item_nested_300_deep(folder):
    return _write(folder, "deep300.json", "[" + json.dumps(GOOD) + ",\n" + "[" * 300
                  + "]" * 300 + "]")


@case("quarantine", r"line 2.*digits")
def jsonl_5000_digit_number(folder):
    return _write(folder, "bigint.jsonl", _lines(GOOD, '{"prompt": ' + "9" * 5000 + ', "response": "r"}'))


@case("quarantine", r"line 2.*digits")
def json_array_5000_digit_number(folder):
    return _write(folder, "bigint.json", "[" + json.dumps(GOOD) + ",\n" + "9" * 5000 + "]")


@case("quarantine", r"line 2.*digits")
def json_array_5000_digit_number_in_a_field(folder):
    return _write(folder, "bigint-field.json", "[" + json.dumps(GOOD) + ',\n{"prompt": '
                  + "7" * 5000 + ', "response": "r"}]')


@case("quarantine", r"line 2, field 'prompt'.*surrogate")
def jsonl_lone_surrogate(folder):
    return _write(folder, "surrogate.jsonl", _lines(GOOD, '{"prompt": "a\\ud800b", "response": "r"}'))


@case("quarantine", r"line 2.*surrogate")
def jsonl_lone_surrogate_in_a_key(folder):
    return _write(folder, "surrogate-key.jsonl",
                  _lines(GOOD, '{"prompt": "a", "response": "r", "\\udfff": "x"}'))


@case("quarantine", r"line 2.*surrogate")
def json_array_lone_surrogate(folder):
    return _write(folder, "surrogate.json", "[" + json.dumps(GOOD) + ',\n{"prompt": "\\udc00", '
                  '"response": "r"}]')


@case("quarantine", r"line 2.*surrogate")
def jsonl_lone_surrogate_in_chat(folder):
    chat = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "X"}]}
    return _write(folder, "surrogate-chat.jsonl", _lines(GOOD, json.dumps(chat).replace("X", "\\ud83d")))


@case("quarantine", r"line 2")
def jsonl_nan_and_infinity(folder):
    return _write(folder, "nan.jsonl", _lines(GOOD, '{"prompt": NaN, "response": Infinity}'))


@case("quarantine", r"line 2")
def jsonl_huge_exponent(folder):
    return _write(folder, "exp.jsonl", _lines(GOOD, '{"prompt": 1e999999, "response": "r"}'))


# --- Files that are not files -------------------------------------------------------------------

@case("refuse", r"folder")
def folder_as_jsonl(folder):
    target = folder / "data.jsonl"
    target.mkdir()
    (target / "a.jsonl").write_text(_lines(GOOD))
    return target, {"fmt": "jsonl"}


@case("refuse", r"folder")
def folder_as_csv(folder):
    target = folder / "table"
    target.mkdir()
    return target, {"fmt": "csv"}


@case("refuse", r"not a regular file|FIFO|pipe")
def fifo_as_jsonl(folder):
    path = folder / "pipe.jsonl"
    os.mkfifo(path)
    return path, {}


@case("refuse", r"not a regular file|FIFO|pipe")
def fifo_with_a_format(folder):
    path = folder / "pipe.csv"
    os.mkfifo(path)
    return path, {"fmt": "csv"}


@case("refuse", r"not a regular file|FIFO|pipe")
def fifo_in_a_text_folder(folder):
    target = folder / "notes"
    target.mkdir()
    (target / "a.txt").write_text("one note")
    os.mkfifo(target / "b.txt")
    return target, {"fmt": "text-files"}


@case("refuse", r"not a regular file|device")
def character_device(folder):
    return Path("/dev/null"), {"fmt": "jsonl"}


@case("refuse", r"not a regular file|socket")
def unix_socket(folder):
    path = folder / "s.jsonl"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return path, {}


@case("refuse", r"no such file")
def missing_file(folder):
    return folder / "missing.jsonl", {}


@case("refuse", r"no documents \(\.txt, \.md, \.docx or \.pdf")
def text_folder_without_text(folder):
    target = folder / "empty-notes"
    target.mkdir()
    (target / "a.bin").write_bytes(b"\x00\x01")
    return target, {"fmt": "text-files"}


# --- NUL bytes and encodings --------------------------------------------------------------------

_PAD = _lines(*[GOOD] * 2000)  # about 110 KiB: past the 64 KiB sample


@case("either", r"NUL")
def jsonl_nul_after_64_kib(folder):
    return _write(folder, "nul-late.jsonl", (_PAD + '{"prompt": "a\x00b", "response": "r"}\n').encode())


@case("either", r"NUL")
def csv_nul_after_64_kib(folder):
    rows = "".join(f"question {i},answer {i}\n" for i in range(8000))
    return _write(folder, "nul-late.csv", ("prompt,response\n" + rows + "x\x00y,z\n").encode())


@case("either", r"NUL|line")
def json_array_nul_after_64_kib(folder):
    items = ",\n".join(json.dumps(GOOD) for _ in range(2000))
    return _write(folder, "nul-late.json", ("[" + items + ',\n{"prompt": "a\x00", "response": "r"}]').encode())


@case("either", r"NUL")
def text_nul_after_64_kib(folder):
    return _write(folder, "nul-late.txt", ("word " * 30_000 + "\n\nnext\x00block\n").encode())


@case("either", r"NUL")
def tsv_nul_after_64_kib(folder):
    rows = "".join(f"question {i}\tanswer {i}\n" for i in range(8000))
    return _write(folder, "nul-late.tsv", ("prompt\tresponse\n" + rows + "x\x00y\tz\n").encode())


@case("refuse", r"line 1: the file holds control byte|binary")
def png_bytes(folder):
    return _write(folder, "image.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


@case("refuse", r"line 5001: not valid utf-8")
def utf8_then_latin1(folder):
    good = _lines(*[{"prompt": f"é {i}", "response": "r"} for i in range(5000)])
    return _write(folder, "mixed.jsonl", good.encode() + '{"prompt": "caf\xe9"}\n'.encode("latin-1"))


@case("refuse", r"line \d+: not valid utf-8")
def csv_invalid_utf8_late(folder):
    rows = "".join(f"q {i},a {i}\n" for i in range(8000))
    return _write(folder, "bad-bytes.csv", ("prompt,response\n" + rows).encode() + b"\xff\xfe,x\n")


@case("refuse", r"empty|no records")
def bom_only(folder):
    return _write(folder, "bom.jsonl", b"\xef\xbb\xbf")


@case("refuse", r"empty|no records")
def empty_file(folder):
    return _write(folder, "empty.jsonl", b"")


@case("refuse", r"empty|no records")
def whitespace_only(folder):
    return _write(folder, "blank.jsonl", "\n\n   \n\t\n")


# --- CSV ----------------------------------------------------------------------------------------

@case("refuse", r"line 1: .*100000 columns")
def csv_header_with_100000_columns(folder):
    header = ",".join(f"c{i}" for i in range(100_000))
    return _write(folder, "wide.csv", header + "\n" + ",".join("x" * 100_000) + "\n")


@case("either", r"line 3")
def csv_row_with_100000_cells(folder):
    return _write(folder, "wide-row.csv", "prompt,response\na,b\n" + ",".join(["x"] * 100_000) + "\n")


@case("refuse", r"line 3: a quoted field is not closed")
def csv_unbalanced_quote(folder):
    return _write(folder, "quote.csv", 'prompt,response\na,b\n"c,d\ne,f\ng,h\n')


@case("refuse", r"line 1: a quoted field is not closed")
def csv_unbalanced_quote_in_header(folder):
    return _write(folder, "quote-head.csv", '"prompt,response\na,b\n')


@case("refuse", r"line 2: a quoted field is not closed")
def tsv_unbalanced_quote(folder):
    return _write(folder, "quote.tsv", 'prompt\tresponse\n"a\tb\nc\td\n', fmt="tsv")


@case("refuse", r"names a column twice")
def csv_duplicate_header(folder):
    return _write(folder, "dup.csv", "prompt,prompt,response\na,b,c\n")


@case("refuse", r"empty column name")
def csv_empty_header_name(folder):
    return _write(folder, "blank-col.csv", "prompt,,response\na,b,c\n")


@case("refuse", r"empty|no records|no column is mapped")
def csv_header_only(folder):
    return _write(folder, "header.csv", "prompt,response\n")


@case("quarantine", r"line 3")
def csv_ragged_rows(folder):
    return _write(folder, "ragged.csv", "prompt,response\na,b\nc\nd,e,f\ng,h\n")


# --- Shapes that do not fit the task ------------------------------------------------------------

@case("quarantine", r"line 2")
def jsonl_array_line(folder):
    return _write(folder, "arrays.jsonl", _lines(GOOD, [1, 2, 3]))


@case("quarantine", r"line 2")
def jsonl_null_line(folder):
    return _write(folder, "nulls.jsonl", _lines(GOOD, "null"))


@case("quarantine", r"line 2, field 'prompt'")
def jsonl_number_prompt(folder):
    return _write(folder, "number.jsonl", _lines(GOOD, {"prompt": 5, "response": "r"}))


@case("quarantine", r"line 2: invalid JSON")
def jsonl_broken_json(folder):
    return _write(folder, "broken.jsonl", _lines(GOOD, '{"prompt": "a", "response": '))


@case("quarantine", r"line 2.*assistant")
def chat_without_assistant(folder):
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    return _write(folder, "chat.jsonl", _lines(
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}, chat))


@case("quarantine", r"line 2.*turns")
def chat_turns_not_a_list(folder):
    ok = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    return _write(folder, "chat-str.jsonl", _lines(ok, {"messages": "hello"}))


@case("quarantine", r"line 2")
def json_array_of_numbers(folder):
    return _write(folder, "numbers.json", "[" + json.dumps(GOOD) + ",\n1, 2, 3]")


@case("refuse", r"expected a JSON array")
def json_object_not_array(folder):
    return _write(folder, "object.json", json.dumps(GOOD), fmt="json")


@case("refuse", r"truncated")
def json_array_truncated(folder):
    return _write(folder, "cut.json", json.dumps([GOOD] * 100)[:-40])


@case("refuse", r"text after the end")
def json_two_arrays(folder):
    return _write(folder, "two.json", "[" + json.dumps(GOOD) + "]\n[1]")


@case("refuse", r"Parquet")
def parquet_garbage(folder):
    return _write(folder, "junk.parquet", b"PAR1" + b"\x01\x02" * 100)


@case("refuse", r"format")
def unknown_suffix(folder):
    return _write(folder, "data.xyz", "hello\n")


@case("refuse", r"unknown format")
def unknown_format_option(folder):
    return _write(folder, "data.jsonl", _lines(GOOD), fmt="yaml")


@case("refuse", r"names column 'nope'")
def mapping_names_a_missing_column(folder):
    return _write(folder, "map.jsonl", _lines(GOOD), mapping={"prompt": "nope"})


@case("refuse", r"test.fraction")
def negative_test_fraction(folder):
    return _write(folder, "frac.jsonl", _lines(GOOD, GOOD), test_fraction=-1.0)


@case("refuse", r"test.fraction")
def fraction_of_one_and_a_half(folder):
    return _write(folder, "frac2.jsonl", _lines(GOOD, GOOD), test_fraction=1.5)


@case("refuse", r"test.fraction")
def fraction_nan(folder):
    return _write(folder, "frac3.jsonl", _lines(GOOD, GOOD), test_fraction=float("nan"))

