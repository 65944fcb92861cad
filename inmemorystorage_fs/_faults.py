"""Injected faults: ``storage.fail_on(...)`` and the ``faults=`` scope option.

A ``Fault`` makes the operations it matches raise: the first *after* of them
pass, the next *times* raise (None: every one). An injected ``save`` failure
is raised from the content's chunks after the first one is written, so the
storage's own clean-up runs as it does when a real upload breaks.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from ._assertions import glob_regex
from ._options import did_you_mean
from ._record import OPS

__all__ = ["FAULT_KEYS", "Fault", "FaultSpec", "check_fault", "check_faults"]

#: The keys of one fault in ``faults=[...]``.
FAULT_KEYS = ("op", "pattern", "exc", "times", "after", "storage")


# The errno each OSError subclass stands for (OSError(errno, ...) picks the
# subclass the same way): an injected PermissionError says EACCES, not EIO.
_ERRNO_OF: dict[type[OSError], int] = {
    PermissionError: errno.EACCES,
    FileNotFoundError: errno.ENOENT,
    FileExistsError: errno.EEXIST,
    IsADirectoryError: errno.EISDIR,
    NotADirectoryError: errno.ENOTDIR,
    TimeoutError: errno.ETIMEDOUT,
    InterruptedError: errno.EINTR,
    BlockingIOError: errno.EAGAIN,
}


class _Owner(Protocol):
    def _drop_fault(self, fault: Fault) -> None: ...


def check_fault(
    op: object, pattern: object, exc: object, times: object, after: object, where: str
) -> None:
    """Raise ``ValueError``/``TypeError`` naming *where* if a fault's arguments are wrong."""
    if op not in OPS:
        raise ValueError(
            f"{where}: {op!r} is not an operation. {did_you_mean(op, OPS)}"
            f"Use one of: {', '.join(OPS)}."
        )
    if not isinstance(pattern, str) or not pattern:
        raise TypeError(f"{where}: pattern must be a glob such as 'docs/*', not {pattern!r}.")
    if exc is not None and not (
        isinstance(exc, BaseException) or (isinstance(exc, type) and issubclass(exc, Exception))
    ):
        raise TypeError(
            f"{where}: exc must be an exception or an exception class (None: OSError EIO), "
            f"not {exc!r}."
        )
    if times is not None and (type(times) is not int or times < 1):
        raise ValueError(f"{where}: times must be a count of 1 or more, or None, not {times!r}.")
    if type(after) is not int or after < 0:
        raise ValueError(f"{where}: after must be a count of 0 or more, not {after!r}.")


class Fault:
    """Make *op* on names matching *pattern* raise, *times* times after *after* passed.

    Effective until the scope of the storage ends, until it has raised
    *times* times, or, used as a context manager, until its block ends.
    """

    def __init__(
        self,
        owner: _Owner,
        op: str,
        pattern: str = "**",
        exc: BaseException | type[Exception] | None = None,
        times: int | None = 1,
        after: int = 0,
    ) -> None:
        check_fault(op, pattern, exc, times, after, "fail_on()")
        self.op, self.pattern, self.exc, self.times, self.after = op, pattern, exc, times, after
        self.owner = owner
        self.seen = 0  # matching operations so far
        self.raised = 0
        self._regex = glob_regex(pattern)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"<Fault {self.op} {self.pattern!r} times={self.times} after={self.after}: "
            f"raised {self.raised}>"
        )

    def matches(self, op: str, name: str) -> bool:
        """Return True if *op* on *name* is one this fault watches."""
        return op == self.op and self._regex.match(name) is not None

    def take(self, name: str) -> BaseException | None:
        """Count one matching operation on *name*; return the exception it must raise, if any."""
        with self._lock:
            self.seen += 1
            if self.seen <= self.after:
                return None
            if self.times is not None and self.raised >= self.times:
                return None
            self.raised += 1
            spent = self.times is not None and self.raised >= self.times
        if spent:
            self.owner._drop_fault(self)
        return self.exception(name)

    def exception(self, name: str) -> BaseException:
        """Return the exception to raise for *name*."""
        exc = self.exc
        if exc is None:
            exc = OSError(errno.EIO, os.strerror(errno.EIO), name)
        elif isinstance(exc, type):
            if issubclass(exc, OSError):
                code = next((_ERRNO_OF[cls] for cls in exc.__mro__ if cls in _ERRNO_OF), errno.EIO)
                exc = exc(code, os.strerror(code), name)
            else:
                exc = exc(f"injected fault on {self.op} {name!r}")
        return exc

    def cancel(self) -> None:
        """Stop this fault now."""
        self.owner._drop_fault(self)

    def __enter__(self) -> Fault:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cancel()


@dataclass(frozen=True)
class FaultSpec:
    """One fault of the ``faults=`` option, for the storage labelled *storage*."""

    op: str
    pattern: str = "**"
    exc: Any = None
    times: int | None = 1
    after: int = 0
    storage: str = "default"  # an alias or "app_label.Model.field"


def check_faults(faults: object) -> tuple[FaultSpec, ...]:
    """Return the ``faults=`` option as specs, or raise ``ImproperlyConfigured`` saying why.

    It is a list of operation names (``["save"]``) or dicts with the keys of
    ``fail_on()`` and ``storage`` (``[{"op": "save", "pattern": "docs/*"}]``).
    """
    if faults is None:
        return ()
    if isinstance(faults, (str, Mapping)) or not isinstance(faults, (list, tuple)):
        raise ImproperlyConfigured(
            "faults must be a list of operation names or dicts such as "
            f"[{{'op': 'save', 'pattern': 'docs/*'}}], not {faults!r}."
        )
    specs = []
    for index, item in enumerate(faults):
        where = f"faults[{index}]"
        given = {"op": item} if isinstance(item, str) else item
        if not isinstance(given, Mapping):
            raise ImproperlyConfigured(
                f"{where} must be an operation name or a dict, not {item!r}."
            )
        for key in given:
            if key not in FAULT_KEYS:
                raise ImproperlyConfigured(
                    f"{where} has the key {key!r}. {did_you_mean(key, FAULT_KEYS)}"
                    f"Its keys are: {', '.join(FAULT_KEYS)}."
                )
        if "op" not in given:
            raise ImproperlyConfigured(f"{where} needs an 'op', one of: {', '.join(OPS)}.")
        spec = FaultSpec(**given)
        if not isinstance(spec.storage, str):
            raise ImproperlyConfigured(
                f"{where}: storage must be an alias or 'app_label.Model.field', "
                f"not {spec.storage!r}."
            )
        try:
            check_fault(spec.op, spec.pattern, spec.exc, spec.times, spec.after, where)
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(str(exc)) from None
        specs.append(spec)
    return tuple(specs)
