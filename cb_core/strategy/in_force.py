"""The policy in force: the latest published version of a named policy, else the settings' defaults.

Every page, the decision form, the explanation record and the partner view ask
:func:`policy_in_force` which policy applies; none reads the cutoffs from the settings itself
(that is how Merchant review once kept approving at 590 after 620 was published).

The store is passed in and only duck-typed (``store.published_policy(name)`` returning a record
with ``.payload`` and ``.version``, or None): strategy sits below the store and does not import it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Protocol

from ..errors import PolicyError
from .policy import Policy

DEFAULT_POLICY_NAME = "default"


class PublishedRecord(Protocol):
    payload: Mapping[str, Any]
    version: int


class PolicySource(Protocol):
    def published_policy(self, name: str) -> PublishedRecord | None: ...


@dataclass(frozen=True)
class PolicyInForce:
    """Which policy applies now and where it comes from.

    Attributes
    ----------
    policy : Policy
    version : int or None
        The published version; None when nothing is published and the settings' defaults apply.
    source : {"published", "settings"}
    name : str
        The policy's name in the store (``"default"``).
    """

    policy: Policy
    version: int | None
    source: Literal["published", "settings"]
    name: str = DEFAULT_POLICY_NAME

    @property
    def published(self) -> bool:
        return self.version is not None


def policy_in_force(store: PolicySource, name: str = DEFAULT_POLICY_NAME,
                    settings: Any = None) -> PolicyInForce:
    """The latest published version of policy ``name``, or the settings' defaults when none is published.

    Parameters
    ----------
    store
        Anything with ``published_policy(name)`` (the app's :class:`~cb_core.store.Store`).
    name : str
        The policy's name.
    settings
        Settings for the defaults (:meth:`Policy.from_settings`); None: the current settings.

    Returns
    -------
    PolicyInForce
        E.g. version 3 published with approve 620: ``PolicyInForce(Policy(620, ...), 3, "published")``;
        nothing published: ``PolicyInForce(Policy.from_settings(), None, "settings")``.

    Raises
    ------
    PolicyError
        The published payload is not a valid policy (the message names the policy and version).
    """
    record = store.published_policy(name)
    if record is None:
        return PolicyInForce(Policy.from_settings(settings), None, "settings", name)
    try:
        policy = Policy.from_dict(record.payload)
    except PolicyError as err:
        raise PolicyError(f"published policy {name!r} v{record.version} is not usable: {err}", key="err_in_force_unusable", name=name, version=record.version, err=err) from None
    return PolicyInForce(policy, int(record.version), "published", name)


__all__ = ["DEFAULT_POLICY_NAME", "PolicyInForce", "policy_in_force"]
