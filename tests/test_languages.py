"""The `language` parameter: every kind of code the contract names.

Checked against the models really installed.
"""

from __future__ import annotations

import pytest

from ocrchat_server.engines.languages import (
    UnknownLanguageError,
    installed_models,
    model_for_script,
    resolve_language,
)


@pytest.mark.parametrize(
    ("requested", "models"),
    [
        ("en", "eng"),
        ("de", "deu"),
        ("ar", "ara"),
        ("ja", "jpn"),
        ("hi", "hin"),
        ("ru", "rus"),
        ("fa", "fas"),
        ("zh", "chi_sim"),
        ("ch", "chi_sim"),
        ("chinese_cht", "chi_tra"),
        ("korean", "kor"),
        ("eng", "eng"),
        ("chi_sim", "chi_sim"),
        ("DE", "deu"),
        ("en+de", "eng+deu"),
        ("deu+frk", "deu+frk"),
        ("script/Latin", "Latin"),
        ("Cyrillic", "Cyrillic"),
        ("tl", "fil"),
    ],
)
def test_codes_map_to_installed_models(requested: str, models: str) -> None:
    assert resolve_language(requested).models == models


def test_auto_is_left_to_detection() -> None:
    assert resolve_language("auto").auto
    assert resolve_language("").requested == "auto"


@pytest.mark.parametrize("requested", ["xx", "klingon", "en+", "de+zz"])
def test_unknown_codes_are_named(requested: str) -> None:
    with pytest.raises(UnknownLanguageError) as caught:
        resolve_language(requested)
    assert caught.value.code in (requested, "zz")


def test_over_a_hundred_languages_and_the_major_scripts_are_installed() -> None:
    models = installed_models()
    languages = {m for m in models if m.islower() and m != "osd"}
    assert len(languages) > 100
    for script in ("Latin", "Cyrillic", "Arabic", "HanS", "Devanagari", "Greek"):
        assert script in models


def test_osd_script_names_find_their_model() -> None:
    assert model_for_script("Han") == "HanS"
    assert model_for_script("Cyrillic") == "Cyrillic"
    assert model_for_script("Martian") is None
