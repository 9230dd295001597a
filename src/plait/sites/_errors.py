"""Errors of the site registry: an entry that breaks the schema, or a site that cannot be
built into a Config as asked."""

from __future__ import annotations

from plait._errors import PlaitError


class SiteError(PlaitError):
    """A site entry or a request for one is wrong: names the file, the field, and the fix."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        super().__init__(where, field, problem)
        self.where, self.field, self.problem = where, field, problem

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return f"{self.where}:{field} {self.problem}"
