"""One implementation of create / list / read / update / delete for simple tenant resources.

A domain describes a resource with :class:`Resource` and gets a router whose every route is
tenant-scoped, role-checked, validated and documented. Resources with real business rules
(orders) write their own service and routes instead.
"""

# No `from __future__ import annotations`: FastAPI must see the closure-local schema types.
import enum
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.db.base import Base
from lastmile.db.repository import TenantRepository
from lastmile.deps import ServicesDep, SessionDep, require
from lastmile.kit.errors import Conflict, NotFound, Unprocessable, field_error
from lastmile.kit.ids import new_id
from lastmile.kit.pagination import Cursor, Limit, Page
from lastmile.services import Services

M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class HookContext:
    """What a :data:`Hook` may use; ``current_id`` is the row being updated (None on create)."""

    session: Session
    principal: Principal
    services: Services
    current_id: str | None


# A hook that may reject (raise a Problem) or complete the values before they are stored.
Hook = Callable[[HookContext, dict[str, Any]], None]


@dataclass(frozen=True)
class Resource(Generic[M]):
    """How one tenant resource is exposed over HTTP."""

    path: str  # e.g. "/v1/depots"
    noun: str  # e.g. "depot"
    id_prefix: str  # e.g. "dep"
    repository: type[TenantRepository[M]]
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    read_schema: type[BaseModel]
    read_access: Sequence[Access]
    write_access: Sequence[Access]
    # field name -> repository the referenced id must exist in (within the caller's tenant)
    references: Mapping[str, type[TenantRepository[Any]]] = field(default_factory=dict)
    before_save: Hook | None = None
    filters: Mapping[str, str] = field(default_factory=dict)  # query param -> column


def check_references(
    session: Session,
    principal: Principal,
    values: Mapping[str, Any],
    references: Mapping[str, type[TenantRepository[Any]]],
) -> None:
    """Reject ids that do not name a row the caller can see (422 on the field, not 404)."""
    for name, repository in references.items():
        ref = values.get(name)
        if ref is not None and repository(session, principal).get(ref) is None:
            raise Unprocessable(
                f"{name}: no such resource", errors=[field_error([name], f"unknown id {ref!r}")]
            )


def column_values(model: type[Base], payload: BaseModel) -> dict[str, Any]:
    """The payload as column values: JSON columns get JSON-ready data, others Python objects."""
    python, jsonable = payload.model_dump(), payload.model_dump(mode="json")
    columns = model.__table__.columns
    return {
        name: jsonable[name] if isinstance(columns[name].type, JSON) else value
        for name, value in python.items()
    }


def _invalid(exc: ValidationError) -> Unprocessable:
    errors = [
        field_error([p for p in e["loc"] if isinstance(p, str | int)], e["msg"])
        for e in exc.errors()
    ]
    return Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


class ResourceService(Generic[M]):
    """Business operations every simple resource shares. Never commits."""

    def __init__(
        self, resource: Resource[M], session: Session, principal: Principal, services: Services
    ) -> None:
        self.resource = resource
        self.services = services
        self.session = session
        self.principal = principal
        self.repo = resource.repository(session, principal)

    def get(self, id_: str) -> M:
        obj = self.repo.get(id_)
        if obj is None:
            raise NotFound(f"No {self.resource.noun} {id_!r}.")
        return obj

    def _prepare(self, values: dict[str, Any], current_id: str | None) -> dict[str, Any]:
        check_references(self.session, self.principal, values, self.resource.references)
        if self.resource.before_save:
            context = HookContext(self.session, self.principal, self.services, current_id)
            self.resource.before_save(context, values)
        return values

    def create(self, payload: BaseModel) -> M:
        values = self._prepare(column_values(self.repo.model, payload), None)
        obj = self.repo.model(id=new_id(self.resource.id_prefix), **values)
        return self.repo.add(obj)

    def update(self, id_: str, patch: BaseModel) -> M:
        obj = self.get(id_)
        current = self.resource.read_schema.model_validate(obj).model_dump()
        try:
            # The merged record passes the create schema again, so rules spanning fields
            # (end after start, ...) hold after a partial update too.
            merged = self.resource.create_schema.model_validate(
                {**current, **patch.model_dump(exclude_unset=True)}
            )
        except ValidationError as exc:
            raise _invalid(exc) from exc
        for name, value in self._prepare(column_values(self.repo.model, merged), id_).items():
            setattr(obj, name, value)
        self.session.flush()
        return obj

    def delete(self, id_: str) -> None:
        obj = self.get(id_)
        try:
            with self.session.begin_nested():
                self.repo.delete(obj)
        except IntegrityError as exc:
            raise Conflict(
                f"This {self.resource.noun} is still referenced; remove those references first."
            ) from exc

    def find(self, *, cursor: str | None, limit: int, filters: Mapping[str, Any]) -> Any:
        stmt = self.repo.matching({self.resource.filters[p]: v for p, v in filters.items()})
        return self.repo.page(stmt, cursor=cursor, limit=limit)


def crud_router(resource: Resource[Any], *, tags: list[str | enum.Enum]) -> APIRouter:
    """Routes ``POST``/``GET`` on the collection and ``GET``/``PATCH``/``DELETE`` on an item."""
    router = APIRouter(prefix=resource.path, tags=tags)
    noun = resource.noun
    # Schema classes bound to local names so FastAPI reads them from the signatures below.
    Create, Update, Read = resource.create_schema, resource.update_schema, resource.read_schema  # noqa: N806

    def reader(
        session: SessionDep,
        services: ServicesDep,
        principal: Annotated[Principal, Depends(require(*resource.read_access))],
    ) -> ResourceService[Any]:
        return ResourceService(resource, session, principal, services)

    def writer(
        session: SessionDep,
        services: ServicesDep,
        principal: Annotated[Principal, Depends(require(*resource.write_access))],
    ) -> ResourceService[Any]:
        return ResourceService(resource, session, principal, services)

    Reader = Annotated[ResourceService[Any], Depends(reader)]  # noqa: N806
    Writer = Annotated[ResourceService[Any], Depends(writer)]  # noqa: N806

    @router.post(
        "", status_code=status.HTTP_201_CREATED, response_model=Read, summary=f"Create a {noun}"
    )
    def create(payload: Create, svc: Writer) -> Any:  # type: ignore[valid-type]
        return Read.model_validate(svc.create(payload))

    def list_items(svc: Reader, cursor: Cursor = None, limit: Limit = 50, **filters: Any) -> Any:
        paged = svc.find(cursor=cursor, limit=limit, filters=filters)
        return Page[Read].build(paged, Read.model_validate)  # type: ignore[valid-type]

    _add_filter_params(list_items, resource)
    router.add_api_route(
        "",
        list_items,
        methods=["GET"],
        response_model=Page[Read],  # type: ignore[valid-type]
        summary=f"List {noun}s",
    )

    @router.get("/{item_id}", response_model=Read, summary=f"Get a {noun}")
    def read(item_id: str, svc: Reader) -> Any:
        return Read.model_validate(svc.get(item_id))

    @router.patch("/{item_id}", response_model=Read, summary=f"Update a {noun}")
    def update(item_id: str, patch: Update, svc: Writer) -> Any:  # type: ignore[valid-type]
        return Read.model_validate(svc.update(item_id, patch))

    @router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete a {noun}")
    def delete(item_id: str, svc: Writer) -> Response:
        svc.delete(item_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def _add_filter_params(fn: Callable[..., Any], resource: Resource[Any]) -> None:
    """Expose each filter as an optional query parameter on ``fn``, typed like its column.

    An enum column's filter accepts only the enum's values, so an unknown one is a 422.
    """
    columns = resource.repository.model.__table__.columns
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=(getattr(columns[column].type, "enum_class", None) or str) | None,
        )
        for name, column in resource.filters.items()
    ]
    fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
