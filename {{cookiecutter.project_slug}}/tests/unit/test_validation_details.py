"""How pydantic's errors become the API's field errors, for shapes the service's own schemas do
not have yet: unions of models, lists, and a key that is absent."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from {{ cookiecutter.package_name }}.core.field_errors import (
    request_path,
    validation_details,
)


class Cat(BaseModel):
    meows: int


class Dog(BaseModel):
    barks: int


class Owner(BaseModel):
    pet: Cat | Dog
    ages: list[int | str]


def details_of(body: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Owner.model_validate(body)
    errors = [{**error, "loc": ("body", *error["loc"])} for error in caught.value.errors()]
    problems: list[dict[str, str]] = validation_details(errors, body)["errors"]
    return problems


@pytest.mark.error_path
def test_a_union_of_objects_names_what_each_member_misses_but_not_the_members() -> None:
    """No `body.pet.Cat.meows`: the keys each member wanted, as the request would have them."""
    problems = details_of({"pet": {}, "ages": []})

    assert [(problem["field"], problem["type"]) for problem in problems] == [
        ("body.pet.meows", "missing"),
        ("body.pet.barks", "missing"),
    ]


@pytest.mark.error_path
def test_list_positions_are_part_of_the_path_and_member_tags_are_not() -> None:
    problems = details_of({"pet": {"meows": 1}, "ages": [1, None]})

    assert [problem["field"] for problem in problems] == ["body.ages.1"]


@pytest.mark.parametrize(
    ("loc", "error_type", "body", "path"),
    [
        pytest.param(("body", "title"), "missing", {}, "body.title", id="absent-key"),
        pytest.param(("body", "p", "int"), "int_type", {"p": {}}, "body.p", id="tag-after-object"),
        pytest.param(("body", 7), "json_invalid", "{bad", "body", id="position-in-bad-json"),
        pytest.param(("query", "tags", 2, "int"), "int_parsing", None, "query.tags.2", id="query"),
        pytest.param((), "union_tag_not_found", None, "", id="nowhere"),
    ],
)
def test_request_path(loc: tuple[str | int, ...], error_type: str, body: Any, path: str) -> None:
    assert request_path(loc, error_type, body) == path
