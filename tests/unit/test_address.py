from __future__ import annotations

import re

import pytest

from reconciler.address import Address, Target

ORG_FIELD = Address("detailFields", "organization", "Region")
CUSTOMER_FIELD = Address("detailFields", "customer", "Region")
ROLE = Address("teamRoles", "Platform SRE", "responder")
SLASHED_TEAM_ROLE = Address("teamRoles", "EMEA/Ops", "lead")
PRODUCT = Address("products", "", "Acme")


def selected(text: str) -> list[Address]:
    target = Target.parse(text)
    return [a for a in (ORG_FIELD, CUSTOMER_FIELD, ROLE, SLASHED_TEAM_ROLE, PRODUCT) if target.matches(a)]


def test_targets_select_objects_kinds_entities_and_teams() -> None:
    assert selected("products/Acme") == [PRODUCT]
    assert selected("products") == [PRODUCT]
    assert selected("detailFields") == [ORG_FIELD, CUSTOMER_FIELD]
    assert selected("detailFields.organization") == [ORG_FIELD]
    assert selected("detailFields.customer/Region") == [CUSTOMER_FIELD]
    assert selected("teamRoles/Platform SRE") == [ROLE]
    assert selected("teamRoles/Platform SRE/responder") == [ROLE]
    assert selected("teamRoles/EMEA/Ops") == [SLASHED_TEAM_ROLE]  # a team whose name holds a slash
    assert selected("teamRoles/EMEA/Ops/lead") == [SLASHED_TEAM_ROLE]


def test_a_target_compares_names_as_the_api_does() -> None:
    """Detail field names are unique without case (MANIFEST.md, "Identity"); product names are not."""
    assert selected("detailFields.organization/REGION") == [ORG_FIELD]
    assert selected("products/acme") == []


def test_only_objects_and_teams_can_name_nothing() -> None:
    assert not Target.parse("products").names_something
    assert not Target.parse("detailFields.customer").names_something
    assert Target.parse("teamRoles/Platform SRE").names_something
    assert Target.parse("products/Acme").names_something


@pytest.mark.parametrize("text", ["nonsense", "detailFields.org", "teamRoles/", "products/", "widgets/x"])
def test_bad_targets_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Target.parse(text)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("prodcts", "'prodcts' is neither a kind nor an address: did you mean 'products'?"),
        ("detailFelds.customer", "did you mean 'detailFields.customer'?"),
        ("xyz", "'xyz' is neither a kind nor an address: a kind (detailFields.ENTITY, products,"),
        ("prodcts/Acme", "address 'prodcts/Acme': unknown kind 'prodcts' (did you mean 'products'?)"),
        (
            "detailFelds.customer/Region",
            "unknown kind 'detailFelds.customer' (did you mean 'detailFields.customer'?)",
        ),
    ],
)
def test_a_mistyped_kind_as_target_gets_a_did_you_mean(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=re.escape(said)):
        Target.parse(text)
