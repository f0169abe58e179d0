"""The search section's language-model fields: needed by proposer llm, refused for the others."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from evoforge.goal import Search


def test_proposer_llm_needs_an_endpoint_and_a_model() -> None:
    with pytest.raises(ValidationError, match="proposer llm needs base_url and model"):
        Search(proposer="llm")
    with pytest.raises(ValidationError, match="proposer llm needs model"):
        Search(proposer="llm", base_url="http://127.0.0.1:8000/v1")


def test_endpoint_fields_are_refused_for_other_proposers() -> None:
    with pytest.raises(ValidationError, match="base_url is for proposer llm, not evolution"):
        Search(proposer="evolution", base_url="http://127.0.0.1:8000/v1")


def test_base_url_must_be_http() -> None:
    with pytest.raises(ValidationError, match="base_url must start with http:// or https://"):
        Search(proposer="llm", base_url="127.0.0.1:8000", model="m")


def test_a_complete_llm_search_section_is_accepted() -> None:
    search = Search(proposer="llm", base_url="https://api.example.com/v1", model="m", api_key_env="MY_KEY")
    assert (search.model, search.api_key_env) == ("m", "MY_KEY")
