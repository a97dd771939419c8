from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from schema.schema import SDL_PATH, export_sdl, schema


def test_exported_sdl_matches_the_code() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == export_sdl(), (
        "schema/schema.graphql is out of date: run `make schema`"
    )


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    missing: list[str] = []
    for name, type_ in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID", "DateTime"}:
            continue
        if not getattr(type_, "description", None):
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(type_, GraphQLEnumType):
            missing.extend(f"{name}.{v}" for v, value in type_.values.items() if not value.description)
    assert missing == []
